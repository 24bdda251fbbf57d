package upgrade_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/open-control-plane/spgen/internal/upgrade"

	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// TestUpgradeKilled kills a real `spgen upgrade` process at points spread
// over its run. After the next spgen command opens the project (which
// completes or discards the interrupted run), the tree is exactly the old
// project or exactly the upgraded one.
func TestUpgradeKilled(t *testing.T) {
	bin := spgenBinary(t)
	old, fresh := trees(t)
	oldFiles, err := testutil.ReadTree(old)
	if err != nil {
		t.Fatal(err)
	}
	newFiles, err := testutil.ReadTree(fresh)
	if err != nil {
		t.Fatal(err)
	}

	// How long a whole upgrade takes here.
	dir := oldProject(t)
	start := time.Now()
	if out, err := exec.Command(bin, "upgrade", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("upgrade: %v\n%s", err, out)
	}
	total := time.Since(start)

	const points = 10
	seen := map[string]int{}
	for i := 0; i < points; i++ {
		dir := oldProject(t)
		cmd := exec.Command(bin, "upgrade", "--dir", dir)
		cmd.Env = append(os.Environ(), testutil.ProcessTempDir(t))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// From the start to just past the end of the run.
		time.Sleep(total * time.Duration(i) / (points - 2))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()

		w, err := workspace.Open(dir, workspace.OpenOptions{})
		if err != nil {
			t.Fatalf("kill %d: opening after the kill: %v", i, err)
		}
		w.Close()
		got, err := testutil.ReadTree(dir)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case testutil.DiffTrees(oldFiles, got) == "":
			seen["old"]++
		case testutil.DiffTrees(newFiles, got) == "":
			seen["new"]++
		default:
			t.Fatalf("kill %d after %s: a mix of old and new:\nvs old:\n%s\nvs new:\n%s", i, total*time.Duration(i)/(points-2), testutil.DiffTrees(oldFiles, got), testutil.DiffTrees(newFiles, got))
		}
		_ = os.RemoveAll(filepath.Dir(dir))
	}
	t.Logf("upgrade takes %s; %d kills left the old tree, %d the new one", total.Round(time.Millisecond), seen["old"], seen["new"])
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// spgenBinary builds spgen once for the package's tests. The version is
// pinned so lock files match the reference trees.
func spgenBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := testutil.SharedDir("spgen-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "spgen")
		build := exec.Command("go", "build", "-ldflags", "-X github.com/open-control-plane/spgen/internal/cli.Version=devel", "-o", binPath, "../../cmd/spgen")
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building spgen: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// resolvedProject is an upgrade stopped at a conflict whose markers the
// user resolved, ready for `spgen upgrade --continue`.
func resolvedProject(t *testing.T) string {
	t.Helper()
	dir := oldProject(t)
	replace(t, dir, controllerFile, applyLine, applyLine+" // tuned by us")
	var conflict *upgrade.ConflictError
	if _, err := runUpgrade(t, dir, upgrade.Options{}); !errors.As(err, &conflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
	// The templates' side, with the user's comment kept.
	markers := regexp.MustCompile(`(?s)<<<<<<< yours\n.*?=======\n(.*?)>>>>>>> [^\n]*\n`)
	resolved := strings.Replace(markers.ReplaceAllString(read(t, dir, controllerFile), "$1"), applyLineNow, applyLineNow+" // tuned by us", 1)
	if err := os.WriteFile(filepath.Join(dir, controllerFile), []byte(resolved), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestContinueKilled stops a real `spgen upgrade --continue` with SIGKILL
// or SIGINT at points spread over its run. Once the next spgen command has
// opened the project, it is either still the resolved, unfinished upgrade
// (and a second --continue finishes it) or exactly the finished one.
func TestContinueKilled(t *testing.T) {
	bin := spgenBinary(t)
	pristine := resolvedProject(t)
	resolved, err := testutil.ReadTree(pristine)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "sp-velero")
	if err := os.CopyFS(ref, os.DirFS(pristine)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, err := exec.Command(bin, "upgrade", "--continue", "--dir", ref).CombinedOutput(); err != nil {
		t.Fatalf("upgrade --continue: %v\n%s", err, out)
	}
	total := time.Since(start)
	finished, err := testutil.ReadTree(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := finished[".spgen/upgrade.yaml"]; ok {
		t.Fatal("--continue left the record of the upgrade")
	}

	const points = 8
	seen := map[string]int{}
	for i := 0; i < points; i++ {
		dir := filepath.Join(t.TempDir(), "sp-velero")
		if err := os.CopyFS(dir, os.DirFS(pristine)); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "upgrade", "--continue", "--dir", dir)
		cmd.Env = append(os.Environ(), testutil.ProcessTempDir(t))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(total * time.Duration(i) / (points - 2))
		sig := os.Signal(syscall.SIGKILL)
		if i%2 == 1 {
			sig = syscall.SIGINT
		}
		_ = cmd.Process.Signal(sig)
		_ = cmd.Wait()

		w, err := workspace.Open(dir, workspace.OpenOptions{Unfinished: true})
		if err != nil {
			t.Fatalf("%s %d: opening after it: %v", sig, i, err)
		}
		w.Close()
		got, err := testutil.ReadTree(dir)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case testutil.DiffTrees(finished, got) == "":
			seen["finished"]++
		case testutil.DiffTrees(resolved, got) == "":
			seen["unfinished"]++
			if out, err := exec.Command(bin, "upgrade", "--continue", "--dir", dir).CombinedOutput(); err != nil {
				t.Fatalf("%s %d: --continue again: %v\n%s", sig, i, err, out)
			}
			again, err := testutil.ReadTree(dir)
			if err != nil {
				t.Fatal(err)
			}
			if diff := testutil.DiffTrees(finished, again); diff != "" {
				t.Fatalf("%s %d: the second --continue differs from an uninterrupted one:\n%s", sig, i, diff)
			}
		default:
			t.Fatalf("%s %d after %s: neither unfinished nor finished:\nvs finished:\n%s\nvs unfinished:\n%s", sig, i, total*time.Duration(i)/(points-2), testutil.DiffTrees(finished, got), testutil.DiffTrees(resolved, got))
		}
	}
	t.Logf("--continue takes %s; %d stops left it unfinished, %d finished", total.Round(time.Millisecond), seen["unfinished"], seen["finished"])
}
