package taskfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpgenTasks: a project a development build of spgen wrote runs the
// spgen on PATH. Without one, `task generate` stops before doing anything
// and says how to get one; with one, `task check-generated` passes on the
// project as written.
func TestSpgenTasks(t *testing.T) {
	taskBin := installTask(t)
	dir := copyProject(t, filepath.Join("..", "..", "golden", "default"))
	goBin := filepath.Dir(goTool(t))

	noSpgen := []string{"PATH=" + goBin + string(os.PathListSeparator) + "/usr/bin" + string(os.PathListSeparator) + "/bin"}
	out, err := runTaskEnv(taskBin, dir, noSpgen, "generate")
	if err == nil {
		t.Fatalf("task generate without spgen passed:\n%s", out)
	}
	for _, want := range []string{"spgen does not run", "go install ./cmd/spgen", "spgen upgrade"} {
		if !strings.Contains(out, want) {
			t.Errorf("task generate without spgen does not say %q:\n%s", want, out)
		}
	}

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "spgen"), "github.com/open-control-plane/spgen/cmd/spgen")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building spgen: %v\n%s", err, out)
	}
	withSpgen := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	if out, err := runTaskEnv(taskBin, dir, withSpgen, "check-generated"); err != nil {
		t.Fatalf("task check-generated with spgen on PATH: %v\n%s", err, out)
	}
}

func runTaskEnv(taskBin, dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command(taskBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// goTool is the go command the tests run with.
func goTool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	return path
}
