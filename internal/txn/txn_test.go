package txn

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/projectfs"
	"github.com/open-control-plane/spgen/internal/testutil"
)

var errKilled = errors.New("killed")

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	files, err := testutil.ReadTree(root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for p, c := range files {
		if strings.HasPrefix(p, Dir+"/") {
			continue // the journal is spgen's, not part of the project
		}
		got[p] = string(c)
	}
	return got
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestKilledAtEveryStep stops a commit after each of its steps, as a kill
// would, and checks that the project is the old tree, or the new tree once
// recovered, never a mix.
func TestKilledAtEveryStep(t *testing.T) {
	old := map[string]string{"a.go": "a1", "dir/b.go": "b1", "gone/c.go": "c1", "user.txt": "mine"}
	want := map[string]string{"a.go": "a2", "dir/b.go": "b2", "new/d.go": "d2", "user.txt": "mine"}
	steps := 5 // plan written, three writes, one removal
	for kill := 0; kill <= steps; kill++ {
		root := t.TempDir()
		writeTree(t, root, old)
		afterStep = func(step int) error {
			if step == kill {
				return errKilled
			}
			return nil
		}
		tx, err := Begin(open(t, root))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"a.go", "dir/b.go", "new/d.go"} {
			if err := tx.Write(p, []byte(want[p])); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Remove("gone/c.go"); err != nil {
			t.Fatal(err)
		}
		err = tx.Commit()
		afterStep = func(int) error { return nil }
		if kill < steps && !errors.Is(err, errKilled) {
			t.Fatalf("kill after step %d: commit returned %v", kill, err)
		}
		if kill == 0 && !equal(readTree(t, root), old) {
			t.Fatalf("killed before the commit point: project changed: %v", readTree(t, root))
		}
		recovered, err := Recover(open(t, root))
		if err != nil {
			t.Fatal(err)
		}
		got := readTree(t, root)
		switch {
		case kill == 0 && !equal(got, old):
			t.Errorf("kill before commit point, after recovery: got %v, want the old tree", got)
		case kill > 0 && !equal(got, want):
			t.Errorf("kill after step %d, after recovery: got %v, want the new tree", kill, got)
		}
		if kill < steps && !recovered {
			t.Errorf("kill after step %d: Recover found nothing to do", kill)
		}
		if _, err := os.Stat(filepath.Join(root, Dir)); !os.IsNotExist(err) {
			t.Errorf("kill after step %d: journal left behind", kill)
		}
	}
}

func TestBeginRefusesUnrecovered(t *testing.T) {
	root := open(t, t.TempDir())
	if _, err := Begin(root); err != nil {
		t.Fatal(err)
	}
	if _, err := Begin(root); err == nil {
		t.Fatal("second Begin succeeded while a journal exists")
	}
}

func TestRecoverRefusesEscapingPaths(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{Dir + "/plan.json": `{"write":[],"remove":["../outside"]}`})
	if _, err := Recover(open(t, root)); err == nil {
		t.Fatal("a plan removing ../outside was applied")
	}
}

// TestRecoverRefusesLinkedPaths: a plan can neither write through a
// symbolic link nor into .git, whatever wrote the plan.
func TestRecoverRefusesLinkedPaths(t *testing.T) {
	for name, plan := range map[string]string{
		"write through link":  `{"write":["linked/x.go"],"remove":[]}`,
		"remove through link": `{"write":[],"remove":["linked/keep.txt"]}`,
		"remove in .git":      `{"write":[],"remove":[".git/HEAD"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			outside := t.TempDir()
			writeTree(t, outside, map[string]string{"keep.txt": "outside"})
			writeTree(t, root, map[string]string{".git/HEAD": "ref", Dir + "/plan.json": plan, Dir + "/files/linked/x.go": "evil"})
			if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
				t.Fatal(err)
			}
			if _, err := Recover(open(t, root)); err == nil {
				t.Fatal("plan was applied")
			}
			if got := readTree(t, outside); !equal(got, map[string]string{"keep.txt": "outside"}) {
				t.Errorf("directory behind the link changed: %v", got)
			}
			if got, err := os.ReadFile(filepath.Join(root, ".git", "HEAD")); err != nil || string(got) != "ref" {
				t.Errorf(".git/HEAD: %q %v", got, err)
			}
		})
	}
}

func open(t *testing.T, root string) *projectfs.Dir {
	t.Helper()
	d, err := projectfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestFailureAfterCommitPoint: a commit that fails once the plan is
// durable says that the next spgen command completes it, and it does.
func TestFailureAfterCommitPoint(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.go": "a1"})
	afterStep = func(step int) error {
		if step == 1 {
			return errKilled
		}
		return nil
	}
	defer func() { afterStep = func(int) error { return nil } }()
	tx, err := Begin(open(t, root))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.go", "b.go"} {
		if err := tx.Write(p, []byte(p+"2")); err != nil {
			t.Fatal(err)
		}
	}
	err = tx.Commit()
	if !errors.Is(err, errKilled) || !strings.Contains(err.Error(), "the next spgen command on this project completes it") {
		t.Fatalf("commit failing after the commit point: %v, want the failure and what completes it", err)
	}
	afterStep = func(int) error { return nil }
	if _, err := Recover(open(t, root)); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, root); !equal(got, map[string]string{"a.go": "a.go2", "b.go": "b.go2"}) {
		t.Errorf("after recovery: %v", got)
	}
}

// TestPendingChecksTheWholePlan: a plan with one bad entry is refused
// before its good entries are applied.
func TestPendingChecksTheWholePlan(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"escaping entry":       {Dir + "/plan.json": `{"write":["README.md","../escape"],"remove":[]}`, Dir + "/files/README.md": "planted"},
		"control character":    {Dir + "/plan.json": `{"write":["README.md","a\nb"],"remove":[]}`, Dir + "/files/README.md": "planted"},
		"directory as content": {Dir + "/plan.json": `{"write":["README.md","docs"],"remove":[]}`, Dir + "/files/README.md": "planted", Dir + "/files/docs/x": "x"},
		"state outside .spgen": {Dir + "/plan.json": `{"write":["README.md"],"remove":[],"state":["README.md"]}`, Dir + "/files/README.md": "planted"},
		"not JSON":             {Dir + "/plan.json": `{"write":`},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, files)
			writeTree(t, root, map[string]string{"README.md": "mine"})
			_, err := Recover(open(t, root))
			var damaged *DamagedError
			if !errors.As(err, &damaged) {
				t.Fatalf("Recover: %v, want a damaged journal", err)
			}
			if got := readTree(t, root)["README.md"]; got != "mine" {
				t.Errorf("README.md = %q: part of a refused plan was applied", got)
			}
		})
	}
}
