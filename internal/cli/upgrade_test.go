package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/stack"
)

// oldProject writes a generation-6 project (the oldest spgen stores)
// through the CLI.
func oldProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sp-velero")
	code, _, stderr := run(t, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", dir, "--templates", "6", "--skip-verify")
	if code != 0 {
		t.Fatalf("init --templates 6: exit %d\n%s", code, stderr)
	}
	return dir
}

// applyLine is a line of the generation-6 controller that the current
// templates changed.
const applyLine = "results, err := r.veleroObjects(ctx, obj, pc, cc, w).Apply(ctx)"

func TestUpgradeCommand(t *testing.T) {
	dir := oldProject(t)
	before := state(t, dir)
	code, stdout, stderr := run(t, "upgrade", "--dry-run", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "+++ b/.github/workflows/spgen-upgrade.yaml") || !strings.Contains(stderr, "nothing was written") {
		t.Fatalf("dry-run: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if state(t, dir) != before {
		t.Fatal("upgrade --dry-run wrote files")
	}
	code, stdout, stderr = run(t, "upgrade", "--dir", dir)
	if code != 0 {
		t.Fatalf("upgrade: exit %d\n%s", code, stderr)
	}
	header := "Upgraded from templates 6, stack 2026.11.2 to templates " + render.Current.Name + ", stack " + stack.Version
	for _, want := range []string{header, "replaced    internal/controller/velero_controller.go", "created     .github/workflows/spgen-upgrade.yaml", "created     test/apiserver/build.go"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	// The counts agree with the files listed.
	counts := map[string]int{}
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(line, "  ") {
			counts[f[0]]++
		}
	}
	want := fmt.Sprintf("replaced %d, merged %d, conflicted %d, kept %d, removed %d, created %d, regenerated %d",
		counts["replaced"], counts["merged"], counts["conflicted"], counts["kept"], counts["removed"], counts["created"], counts["regenerated"])
	if !strings.Contains(stdout, want) {
		t.Errorf("summary counts differ from the files listed; want %q in:\n%s", want, stdout)
	}
	code, stdout, _ = run(t, "upgrade", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "nothing to do") {
		t.Fatalf("second upgrade: exit %d\n%s", code, stdout)
	}
}

func TestUpgradeConflictExitsOne(t *testing.T) {
	dir := oldProject(t)
	path := filepath.Join(dir, "internal", "controller", "velero_controller.go")
	edit(t, path, applyLine, applyLine+" // ours")
	code, stdout, stderr := run(t, "upgrade", "--dir", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "1 file(s) have conflicts") || !strings.Contains(stderr, "internal/controller/velero_controller.go") || !strings.Contains(stdout, "conflicted  internal/controller/velero_controller.go") {
		t.Errorf("conflict not reported:\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), applyLine+" // ours") || !strings.Contains(string(data), "<<<<<<< yours") {
		t.Error("the user's line or the markers are missing")
	}
}

func TestUpgradeBadInput(t *testing.T) {
	for name, c := range map[string]struct {
		old, new, want string
	}{
		"unknown template generation":    {`templates: "6"`, `templates: "99"`, `templates generation "99" is unknown`},
		"unknown stack":                  {"stack: 2026.11.2", "stack: 1999.01.1", `stack "1999.01.1" is unknown`},
		"stack the generation never had": {`templates: "6"`, `templates: "9"`, "templates 9 with stack 2026.11.2 is a combination spgen never wrote"},
		"malformed lock":                 {"files:", "files: [", ".spgen/lock.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := oldProject(t)
			edit(t, filepath.Join(dir, ".spgen", "lock.yaml"), c.old, c.new)
			before := state(t, dir)
			code, _, stderr := run(t, "upgrade", "--dir", dir)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, c.want, stderr)
			}
			if state(t, dir) != before {
				t.Fatal("the project changed")
			}
		})
	}
}

// add-api on a project of an earlier generation asks for an upgrade first.
func TestAddAPIAsksForUpgrade(t *testing.T) {
	dir := oldProject(t)
	code, _, stderr := run(t, "add-api", "--kind", "Schedule", "--dir", dir)
	if code != 2 || !strings.Contains(stderr, "run spgen upgrade first") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

// TestUpgradeCheck: --check exits 1 naming what is behind and writes
// nothing; once upgraded, it exits 0.
func TestUpgradeCheck(t *testing.T) {
	dir := oldProject(t)
	before := state(t, dir)
	code, stdout, stderr := run(t, "upgrade", "--check", "--dir", dir)
	wants := []string{"templates generation 6 (this spgen writes " + render.Current.Name + ")", "stack 2026.11.2 (this spgen's is " + stack.Version + ")"}
	for _, want := range wants {
		if code != 1 || !strings.Contains(stdout, want) {
			t.Errorf("--check: exit %d, want 1 saying %q\n%s%s", code, want, stdout, stderr)
		}
	}
	if state(t, dir) != before {
		t.Fatal("--check wrote files")
	}
	if code, _, stderr := run(t, "upgrade", "--dir", dir); code != 0 {
		t.Fatalf("upgrade: exit %d\n%s", code, stderr)
	}
	if code, stdout, _ := run(t, "upgrade", "--check", "--dir", dir); code != 0 || !strings.Contains(stdout, "Up to date") {
		t.Errorf("--check after the upgrade: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := run(t, "upgrade", "--check", "--continue", "--dir", dir); code != 2 {
		t.Errorf("--check with --continue: exit %d, want 2\n%s", code, stderr)
	}
}
