package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil"
)

// strandedProject is the kind of project an upgrade used to strand: a Helm
// project of an earlier generation (6, the oldest spgen stores) whose
// rbac markers the user extended and whose reconciler the user edited
// where the templates changed it too.
func strandedProject(t *testing.T) (dir, controller string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "sp-velero")
	if code, _, stderr := run(t, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", dir, "--templates", "6", "--deploy", "helm", "--skip-verify"); code != 0 {
		t.Fatalf("init --templates 6: exit %d\n%s", code, stderr)
	}
	controller = filepath.Join(dir, "internal", "controller", "velero_controller.go")
	edit(t, controller, "groups=apps,resources=deployments,verbs", "groups=apps,resources=deployments;statefulsets,verbs")
	edit(t, controller, applyLine, applyLine+" // ours")
	return dir, controller
}

// TestUpgradeResumes: an upgrade that stops at a conflict writes what
// merged and records itself; every other command refuses until the
// conflict is resolved and `upgrade --continue` finishes the job
// (generated files, go.mod, lock file), which ends in a project that
// builds, vets and is current. `upgrade --abort` instead restores every
// byte.
func TestUpgradeResumes(t *testing.T) {
	dir, controller := strandedProject(t)
	before, err := testutil.ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "upgrade", "--dir", dir)
	if code != 1 || !strings.Contains(stdout, "conflicted  internal/controller/velero_controller.go") || !strings.Contains(stderr, "spgen upgrade --continue") {
		t.Fatalf("upgrade: exit %d, want 1 naming the conflict and --continue\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".spgen", "upgrade.yaml")); err != nil {
		t.Fatalf("the unfinished upgrade is not recorded: %v", err)
	}
	stopped := state(t, dir)

	// Every command but --continue, --abort and --check refuses, writing nothing.
	for _, args := range [][]string{{"generate"}, {"generate", "--check"}, {"upgrade"}, {"upgrade", "--dry-run"}, {"add-api", "--kind", "Schedule"}} {
		code, _, stderr := run(t, append(args, "--dir", dir)...)
		if code != 2 || !strings.Contains(stderr, "spgen upgrade --continue") || !strings.Contains(stderr, "spgen upgrade --abort") {
			t.Errorf("%v while the upgrade is unfinished: exit %d, want 2 saying how to finish it\n%s", args, code, stderr)
		}
	}
	if code, stdout, _ := run(t, "upgrade", "--check", "--dir", dir); code != 1 || !strings.Contains(stdout, "unfinished") {
		t.Errorf("upgrade --check: exit %d, want 1 reporting the unfinished upgrade\n%s", code, stdout)
	}
	// With the markers still in, --continue names them and writes nothing.
	code, _, stderr = run(t, "upgrade", "--continue", "--dir", dir)
	if code != 1 || !regexp.MustCompile(`internal/controller/velero_controller.go:\d+`).MatchString(stderr) {
		t.Errorf("--continue with markers: exit %d, want 1 naming file:line\n%s", code, stderr)
	}
	if state(t, dir) != stopped {
		t.Fatal("--continue with markers left wrote files")
	}

	aborted := filepath.Join(t.TempDir(), "sp-velero")
	if err := os.CopyFS(aborted, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run(t, "upgrade", "--abort", "--dir", aborted); code != 0 || !strings.Contains(stdout, "restored") {
		t.Fatalf("--abort: exit %d\n%s%s", code, stdout, stderr)
	}
	after, err := testutil.ReadTree(aborted)
	if err != nil {
		t.Fatal(err)
	}
	if diff := testutil.DiffTrees(before, after); diff != "" {
		t.Errorf("--abort did not put the project back exactly as before the upgrade:\n%s", diff)
	}

	resolve(t, controller)
	if !strings.Contains(readFile(t, controller), "deployments;statefulsets") {
		// The templates changed the markers next to the user's: the
		// user keeps theirs in the resolution.
		edit(t, controller, "groups=apps,resources=deployments,verbs", "groups=apps,resources=deployments;statefulsets,verbs")
	}
	code, stdout, stderr = run(t, "upgrade", "--continue", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "Finished the upgrade") {
		t.Fatalf("--continue: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".spgen", "upgrade.yaml")); !os.IsNotExist(err) {
		t.Errorf("the record of the upgrade is still there: %v", err)
	}
	for _, args := range [][]string{{"generate", "--check"}, {"upgrade", "--check"}} {
		if code, stdout, stderr := run(t, append(args, "--dir", dir)...); code != 0 {
			t.Errorf("%v after --continue: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	if wiring := readFile(t, filepath.Join(dir, "internal", "wiring", "zz_generated.wiring.go")); !strings.Contains(wiring, "statefulsets") {
		t.Error("the resolved marker did not reach the generated permissions")
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
}

// resolve takes the templates' side of every conflict in path, as a user
// resolving it would.
func resolve(t *testing.T, path string) {
	t.Helper()
	conflict := regexp.MustCompile(`(?s)<<<<<<< yours\n.*?\n=======\n(.*?)>>>>>>> [^\n]*\n`)
	content := readFile(t, path)
	if !conflict.MatchString(content) {
		t.Fatalf("%s has no conflict", path)
	}
	if err := os.WriteFile(path, []byte(conflict.ReplaceAllString(content, "$1")), 0o644); err != nil {
		t.Fatal(err)
	}
}
