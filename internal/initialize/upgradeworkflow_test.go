package initialize_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/open-control-plane/spgen/internal/testutil"
)

// TestUpgradeWorkflow runs the script of the generated spgen-upgrade
// workflow as GitHub runs it (bash -eo pipefail), with git and a bare
// repository as origin, `go run …/spgen@<version>` answered by spgen built
// as that release, and gh recorded. A project written by v0.8.0 whose
// workflow pin Renovate moved to v0.9.0 gets a pushed branch with the
// upgrade and a labelled pull request; one whose upgrade stops at a
// conflict gets it with the markers, the record and a conflicts label; a
// second run proposes nothing new, and a current project nothing at all.
func TestUpgradeWorkflow(t *testing.T) {
	const old, release = "v0.8.0", "v0.9.0"
	env := newWorkflowEnv(t, old, release)
	renovate := func(dir string) {
		edit(t, filepath.Join(dir, ".github", "workflows", "spgen-upgrade.yaml"), "SPGEN_VERSION: "+old, "SPGEN_VERSION: "+release)
	}

	t.Run("behind", func(t *testing.T) {
		dir := env.project(t, renovate)
		out := env.run(t, dir)
		branch := env.branch(t, dir, "spgen-upgrade/"+release)
		if !strings.Contains(branch, "spgenVersion: "+release) || strings.Contains(branch, ".spgen/upgrade.yaml") {
			t.Errorf("the pushed branch is not the finished upgrade:\n%s\nscript output:\n%s", branch, out)
		}
		if pr := env.calls(t); !strings.Contains(pr, "pr create --head spgen-upgrade/"+release+" --title Upgrade to spgen "+release+" --body-file body.md --label spgen-upgrade\n") {
			t.Errorf("gh calls:\n%s\nscript output:\n%s", pr, out)
		}
		env.run(t, dir)
		if n := strings.Count(env.calls(t), "pr create"); n != 1 {
			t.Errorf("a second run proposed again: %d pull requests", n)
		}
	})

	t.Run("conflicts", func(t *testing.T) {
		dir := env.project(t, func(dir string) {
			renovate(dir)
			// The team runs its own spgen build by default, on the line
			// the upgrade moves.
			edit(t, filepath.Join(dir, "Taskfile.yaml"), "@"+old+`"}}'`, "@"+old+`" | trim}}'`)
		})
		env.run(t, dir)
		branch := env.branch(t, dir, "spgen-upgrade/"+release)
		for _, want := range []string{".spgen/upgrade.yaml", "<<<<<<< yours", "spgenVersion: " + old} {
			if !strings.Contains(branch, want) {
				t.Errorf("the pushed branch lacks %q", want)
			}
		}
		if pr := env.calls(t); !strings.Contains(pr, "(conflicts to resolve) --body-file body.md --label spgen-upgrade,spgen-conflicts\n") || !strings.Contains(pr, "label create spgen-conflicts") {
			t.Errorf("gh calls:\n%s", pr)
		}
	})

	t.Run("current", func(t *testing.T) {
		dir := env.project(t, nil)
		env.run(t, dir)
		if out, err := exec.Command("git", "-C", dir, "ls-remote", "--heads", "origin", "spgen-upgrade/*").CombinedOutput(); err != nil || len(out) != 0 {
			t.Errorf("a current project pushed %q (%v)", out, err)
		}
		if calls := env.calls(t); calls != "" {
			t.Errorf("gh was called: %s", calls)
		}
	})
}

// workflowEnv holds the spgen release build and the shims on PATH.
type workflowEnv struct {
	old, path, ghLog string
}

func newWorkflowEnv(t *testing.T, releases ...string) *workflowEnv {
	t.Helper()
	tools := t.TempDir()
	e := &workflowEnv{old: filepath.Join(tools, "spgen@"+releases[0]), ghLog: filepath.Join(tools, "gh.log")}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	// go run of a release runs its build; anything else is the real go
	// command.
	shim := "#!/bin/sh\n"
	for _, r := range releases {
		bin := filepath.Join(tools, "spgen@"+r)
		build := exec.Command("go", "build", "-ldflags", "-X github.com/open-control-plane/spgen/internal/cli.Version="+r, "-o", bin, "../../cmd/spgen")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building spgen: %v\n%s", err, out)
		}
		shim += fmt.Sprintf("if [ \"$1\" = run ] && [ \"$2\" = github.com/open-control-plane/spgen/cmd/spgen@%s ]; then shift 2; exec %s \"$@\"; fi\n", r, bin)
	}
	shim += "exec " + goBin + " \"$@\"\n"
	gh := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s\n", e.ghLog)
	for name, body := range map[string]string{"go": shim, "gh": gh} {
		if err := os.WriteFile(filepath.Join(tools, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.path = tools + string(os.PathListSeparator) + os.Getenv("PATH")
	return e
}

// project creates a project with the first release, committed and pushed
// to a bare origin, with edit (if any) committed on top.
func (e *workflowEnv) project(t *testing.T, edit func(dir string)) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "sp-velero")
	if out, err := exec.Command(e.old, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", dir, "--skip-verify").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	origin := filepath.Join(root, "origin.git")
	testutil.Git(t, root, "init", "-q", "--bare", "-b", "main", origin)
	testutil.Git(t, dir, "init", "-q", "-b", "main")
	testutil.Git(t, dir, "remote", "add", "origin", origin)
	testutil.Git(t, dir, "add", ".")
	testutil.Git(t, dir, "commit", "-qm", "init")
	if edit != nil {
		edit(dir)
		testutil.Git(t, dir, "commit", "-qam", "our change")
	}
	testutil.Git(t, dir, "push", "-q", "origin", "main")
	if err := os.Remove(e.ghLog); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return dir
}

// run runs the workflow's script in a fresh checkout of the project.
func (e *workflowEnv) run(t *testing.T, dir string) string {
	t.Helper()
	workflow, err := os.ReadFile(filepath.Join(dir, ".github", "workflows", "spgen-upgrade.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Jobs map[string]struct {
			Env   map[string]string
			Steps []struct{ Name, Run string }
		}
	}
	if err := yaml.Unmarshal(workflow, &w); err != nil {
		t.Fatal(err)
	}
	job := w.Jobs["propose"]
	script := ""
	for _, s := range job.Steps {
		script += s.Run
	}
	checkout := filepath.Join(t.TempDir(), "checkout")
	testutil.Git(t, filepath.Dir(dir), "clone", "-q", filepath.Join(filepath.Dir(dir), "origin.git"), checkout)
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = checkout
	cmd.Env = append(append(os.Environ(), testutil.GitIdentity...), "PATH="+e.path, "SPGEN_VERSION="+job.Env["SPGEN_VERSION"], "GH_TOKEN=test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the workflow's script failed: %v\n%s", err, out)
	}
	return string(out)
}

// branch lists the files of a pushed branch and the lock and upgrade
// record on it.
func (e *workflowEnv) branch(t *testing.T, dir, name string) string {
	t.Helper()
	origin := filepath.Join(filepath.Dir(dir), "origin.git")
	files, err := exec.Command("git", "-C", origin, "ls-tree", "-r", "--name-only", name).CombinedOutput()
	if err != nil {
		t.Fatalf("branch %s was not pushed: %v\n%s", name, err, files)
	}
	lock, _ := exec.Command("git", "-C", origin, "show", name+":.spgen/lock.yaml").Output()
	taskfile, _ := exec.Command("git", "-C", origin, "show", name+":Taskfile.yaml").Output()
	return string(files) + string(lock) + string(taskfile)
}

func (e *workflowEnv) calls(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(e.ghLog)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
