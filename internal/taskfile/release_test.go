package taskfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil"
)

// TestReleaseTasks makes the release commits of a generated project the way
// its README says and checks what the release workflow will read: VERSION,
// the ServiceProvider's image, the commit, and the project's own release
// tests.
func TestReleaseTasks(t *testing.T) {
	taskBin := installTask(t)
	dir := copyProject(t, filepath.Join("..", "..", "golden", "default"))
	git(t, dir, "init", "--quiet")
	git(t, dir, "add", "--all")
	git(t, dir, "commit", "--quiet", "-m", "Initial")

	steps := []struct{ task, version, image, subject string }{
		{"release:minor", "v0.1.0", "v0.1.0", "Release v0.1.0"},
		{"release:dev", "v0.1.0-dev", "v0.1.0", "Start the development of the version after v0.1.0"},
		{"release:patch", "v0.1.1", "v0.1.1", "Release v0.1.1"},
		{"release:dev", "v0.1.1-dev", "v0.1.1", "Start the development of the version after v0.1.1"},
		{"release:major", "v1.0.0", "v1.0.0", "Release v1.0.0"},
	}
	for _, s := range steps {
		if out, err := runTask(taskBin, dir, s.task); err != nil {
			t.Fatalf("task %s: %v\n%s", s.task, err, out)
		}
		if got := strings.TrimSpace(read(t, dir, "VERSION")); got != s.version {
			t.Fatalf("after task %s VERSION holds %q, want %q", s.task, got, s.version)
		}
		if want := "image: ghcr.io/your-org/sp-velero:" + s.image + "\n"; !strings.Contains(read(t, dir, "config/deploy/serviceprovider.yaml"), want) {
			t.Fatalf("after task %s the ServiceProvider does not deploy %s", s.task, s.image)
		}
		if got := git(t, dir, "log", "-1", "--format=%s"); got != s.subject {
			t.Fatalf("after task %s the last commit is %q, want %q", s.task, got, s.subject)
		}
		if status := git(t, dir, "status", "--porcelain"); status != "" {
			t.Fatalf("task %s left changes behind:\n%s", s.task, status)
		}
	}
	cmd := exec.Command("go", "test", "-count=1", "./test/release/")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the project's release tests fail after the release commits: %v\n%s", err, out)
	}

	// A release needs a clean working tree: nothing unreviewed is released.
	if err := os.WriteFile(filepath.Join(dir, "scratch.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runTask(taskBin, dir, "release:patch")
	if err == nil || !strings.Contains(out, "Commit or stash your changes first") {
		t.Fatalf("task release:patch with a dirty tree: %v\n%s", err, out)
	}
}

// runTask runs a task of the project in dir; the release tasks commit, so
// git gets an identity.
func runTask(taskBin, dir string, args ...string) (string, error) {
	return runTaskEnv(taskBin, dir, testutil.GitIdentity, args...)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), testutil.GitIdentity...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func read(t *testing.T, dir, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
