package upgrade_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// TestUpgradeKilled kills a real `spgen upgrade` process at points spread
// over its run. After the next spgen command opens the project (which
// completes or discards the interrupted run), the tree is exactly the old
// project or exactly the upgraded one.
func TestUpgradeKilled(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "spgen")
	// The version is pinned so the lock file matches the reference tree.
	build := exec.Command("go", "build", "-ldflags", "-X github.com/open-control-plane/spgen/internal/cli.Version=devel", "-o", bin, "../../cmd/spgen")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building spgen: %v\n%s", err, out)
	}
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
