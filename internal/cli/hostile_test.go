package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/cli"
)

// TestHostileProjectFiles feeds every project command lock files and
// spgen.yaml files that try to make spgen write or remove outside the
// project, into .git or spgen's state, through symbolic links, or to
// exhaust the machine. Each must exit 2 with a message naming the file,
// the entry and the rule, and leave both the project and a sentinel
// directory outside it byte-identical (mtimes included).
func TestHostileProjectFiles(t *testing.T) {
	type env struct{ dir, outside string }
	lockEntry := func(path string) func(t *testing.T, e env) {
		return func(t *testing.T, e env) {
			appendLock(t, e.dir, path, "generated")
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, e env)
		args  []string // default: generate
		want  []string
	}{
		{name: "lock entry leaving the project", setup: lockEntry("../outside/zz_generated.x.go"),
			want: []string{".spgen/lock.yaml", `"../outside/zz_generated.x.go"`, "leaves the project"}},
		{name: "lock entry deep outside", setup: lockEntry("api/../../outside/zz_generated.x.go"),
			want: []string{".spgen/lock.yaml", `"api/../../outside/zz_generated.x.go"`, "must be clean"}},
		{name: "lock entry with an absolute path", setup: func(t *testing.T, e env) {
			appendLock(t, e.dir, filepath.Join(e.outside, "zz_generated.x.go"), "generated")
		}, want: []string{".spgen/lock.yaml", "must be relative to the project"}},
		{name: "lock entry in .git", setup: lockEntry(".git/HEAD"), args: []string{"upgrade"},
			want: []string{".spgen/lock.yaml", `".git/HEAD"`, "inside .git/"}},
		{name: "lock entry in a nested .git", setup: lockEntry("vendor/x/.git/config"),
			want: []string{".spgen/lock.yaml", "inside a .git directory"}},
		{name: "lock entry in spgen's state", setup: lockEntry(".spgen/txn/plan.json"),
			want: []string{".spgen/lock.yaml", "inside .spgen/"}},
		{name: "lock entry with a backslash", setup: lockEntry(`api\..\..\outside\x.go`),
			want: []string{".spgen/lock.yaml", "forward slashes"}},
		{name: "lock entry through a symbolic link", setup: func(t *testing.T, e env) {
			if err := os.Symlink(e.outside, filepath.Join(e.dir, "api", "linked")); err != nil {
				t.Fatal(err)
			}
			appendLock(t, e.dir, "api/linked/zz_generated.deepcopy.go", "generated")
		}, want: []string{".spgen/lock.yaml", "api/linked/zz_generated.deepcopy.go", "symbolic link api/linked"}},
		{name: "generated directory is a symbolic link", setup: func(t *testing.T, e env) {
			rbac := filepath.Join(e.dir, "config", "rbac")
			if err := os.Rename(rbac, filepath.Join(e.outside, "rbac")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(e.outside, "rbac"), rbac); err != nil {
				t.Fatal(err)
			}
		}, args: []string{"add-api", "--kind", "Schedule"}, want: []string{"config/rbac/role.yaml", "symbolic link config/rbac"}},
		{name: "new sample through a symbolic link", setup: func(t *testing.T, e env) {
			samples := filepath.Join(e.dir, "config", "samples")
			if err := os.Rename(samples, filepath.Join(e.outside, "samples")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(e.outside, "samples"), samples); err != nil {
				t.Fatal(err)
			}
			dropLock(t, e.dir, "config/samples/")
		}, args: []string{"add-api", "--kind", "Schedule"}, want: []string{"config/samples/", "symbolic link config/samples"}},
		{name: "state directory is a symbolic link", setup: func(t *testing.T, e env) {
			state := filepath.Join(e.dir, ".spgen")
			if err := os.Rename(state, filepath.Join(e.outside, "state")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(e.outside, "state"), state); err != nil {
				t.Fatal(err)
			}
		}, want: []string{".spgen", "not a directory"}},
		{name: "empty lock", setup: func(t *testing.T, e env) { write(t, e.dir, ".spgen/lock.yaml", "") },
			want: []string{".spgen/lock.yaml", "is empty", "restore it"}},
		{name: "truncated lock", setup: func(t *testing.T, e env) {
			lock := readFile(t, filepath.Join(e.dir, ".spgen", "lock.yaml"))
			write(t, e.dir, ".spgen/lock.yaml", lock[:len(lock)*2/3])
		}, want: []string{".spgen/lock.yaml", "truncated", "restore it"}},
		{name: "lock of 9 MiB", setup: func(t *testing.T, e env) {
			write(t, e.dir, ".spgen/lock.yaml", "# "+strings.Repeat("x", 9<<20)+"\n")
		}, want: []string{".spgen/lock.yaml", "at most 8388608"}},
		{name: "lock with too many entries", setup: func(t *testing.T, e env) {
			var b strings.Builder
			for i := range 20001 {
				fmt.Fprintf(&b, "- hash: sha256:%064d\n  owner: scaffolded\n  path: f%d\n", 0, i)
			}
			lock := readFile(t, filepath.Join(e.dir, ".spgen", "lock.yaml"))
			write(t, e.dir, ".spgen/lock.yaml", strings.Replace(lock, "files:\n", "files:\n"+b.String(), 1))
		}, want: []string{".spgen/lock.yaml", "records 20", "at most 20000"}},
		{name: "lock entry twice", setup: lockEntry("go.mod"), want: []string{".spgen/lock.yaml", `records "go.mod" twice`}},
		{name: "lock entry with a bad hash", setup: func(t *testing.T, e env) {
			lock := readFile(t, filepath.Join(e.dir, ".spgen", "lock.yaml"))
			write(t, e.dir, ".spgen/lock.yaml", strings.Replace(lock, "hash: sha256:", "hash: md5:", 1))
		}, want: []string{".spgen/lock.yaml", "is not sha256:<64 hex digits>"}},
		{name: "huge spgen.yaml", setup: func(t *testing.T, e env) {
			write(t, e.dir, "spgen.yaml", readFile(t, filepath.Join(e.dir, "spgen.yaml"))+"# "+strings.Repeat("k", 300<<10)+"\n")
		}, want: []string{"spgen.yaml", "at most 262144"}},
		{name: "spgen.yaml with too many kinds", setup: func(t *testing.T, e env) {
			var b strings.Builder
			for i := range 101 {
				fmt.Fprintf(&b, "- kind: Kind%d\n  version: v1alpha1\n", i)
			}
			edit(t, filepath.Join(e.dir, "spgen.yaml"), "kinds:\n", "kinds:\n"+b.String())
		}, want: []string{"spgen.yaml", "102 kinds", "at most 100"}},
		{name: "empty spgen.yaml", setup: func(t *testing.T, e env) { write(t, e.dir, "spgen.yaml", "") },
			want: []string{"spgen.yaml", "module"}},
		{name: "spgen.yaml is a directory", setup: func(t *testing.T, e env) {
			if err := os.Remove(filepath.Join(e.dir, "spgen.yaml")); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(e.dir, "spgen.yaml"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"spgen.yaml", "is a directory"}},
		{name: "spgen.yaml is a symbolic link", setup: func(t *testing.T, e env) {
			target := filepath.Join(e.outside, "spgen.yaml")
			if err := os.Rename(filepath.Join(e.dir, "spgen.yaml"), target); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(e.dir, "spgen.yaml")); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"spgen.yaml", "not a regular file"}},
		{name: "kind in spgen.yaml that collides with a scaffold file", setup: func(t *testing.T, e env) {
			edit(t, filepath.Join(e.dir, "spgen.yaml"), "kind: Velero", "kind: Common")
		}, want: []string{"spgen.yaml:5: kinds[0].kind \"Common\"", "api/v1alpha1/common_types.go"}},
		{name: "kinds in spgen.yaml sharing a plural", setup: func(t *testing.T, e env) {
			edit(t, filepath.Join(e.dir, "spgen.yaml"), "kinds:\n", "kinds:\n- kind: Veleroes\n  version: v1alpha1\n")
		}, want: []string{"spgen.yaml:7: kinds[1].kind \"Velero\"", `resource name "veleroes" is already used by kind Veleroes`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := env{dir: newProject(t), outside: filepath.Join(t.TempDir(), "outside")}
			write(t, e.outside, "sentinel.txt", "outside the project\n")
			write(t, e.dir, ".git/HEAD", "ref: refs/heads/main\n")
			c.setup(t, e)
			beforeProject, beforeOutside := state(t, e.dir), state(t, e.outside)
			args := c.args
			if args == nil {
				args = []string{"generate"}
			}
			code, stdout, stderr := run(t, append(args, "--dir", e.dir)...)
			if code != cli.ExitUsage {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, cli.ExitUsage, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("message lacks %q:\n%s", w, stderr)
				}
			}
			if after := state(t, e.dir); after != beforeProject {
				t.Errorf("the project changed")
			}
			if after := state(t, e.outside); after != beforeOutside {
				t.Errorf("the directory outside the project changed")
			}
		})
	}
}

// appendLock adds an entry to the project's lock file.
func appendLock(t *testing.T, dir, path, owner string) {
	t.Helper()
	lock := readFile(t, filepath.Join(dir, ".spgen", "lock.yaml"))
	entry := fmt.Sprintf("- hash: sha256:%064d\n  owner: %s\n  path: %q\n", 0, owner, path)
	write(t, dir, ".spgen/lock.yaml", strings.Replace(lock, "files:\n", "files:\n"+entry, 1))
}

// dropLock forgets every lock entry below prefix, as if spgen never wrote
// those files.
func dropLock(t *testing.T, dir, prefix string) {
	t.Helper()
	lines := strings.Split(readFile(t, filepath.Join(dir, ".spgen", "lock.yaml")), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "- hash:") && i+2 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+2]), "path: "+prefix) {
			i += 2
			continue
		}
		out = append(out, lines[i])
	}
	write(t, dir, ".spgen/lock.yaml", strings.Join(out, "\n"))
}
