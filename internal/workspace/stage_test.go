package workspace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/open-control-plane/spgen/internal/projectfs"
)

// TestStageNeverWritesThrough: staged files are hard links to the project's,
// so a staged write must replace the link, not change the project.
func TestStageNeverWritesThrough(t *testing.T) {
	dir := t.TempDir()
	for p, c := range map[string]string{"a.go": "project", "sub/b.go": "project", ".git/HEAD": "ref"} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pfs, err := projectfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := &Workspace{Dir: dir, fs: pfs}
	defer w.Close()
	st, err := w.Scratch()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	if _, err := os.Stat(filepath.Join(st.Dir, ".git")); !os.IsNotExist(err) {
		t.Error("version control data was staged")
	}
	if err := st.Apply([]Change{{Path: "a.go", Old: []byte("project"), New: []byte("staged")}, {Path: "sub/b.go", Old: []byte("project")}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.go", "sub/b.go"} {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(got) != "project" {
			t.Errorf("%s in the project: %q, %v; want it untouched", p, got, err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(st.Dir, "a.go")); string(got) != "staged" {
		t.Errorf("staged a.go: %q", got)
	}
	if _, err := os.Stat(filepath.Join(st.Dir, "sub", "b.go")); !os.IsNotExist(err) {
		t.Error("staged removal did not remove")
	}
}
