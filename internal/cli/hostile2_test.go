package cli_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/open-control-plane/spgen/internal/cli"
	"github.com/open-control-plane/spgen/internal/flock"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/testutil"
)

// hostileEnv is one case's world: a fresh project and a directory outside
// it that nothing may touch.
type hostileEnv struct{ dir, outside string }

// hostileCase is one hostile input and what spgen must do with it.
type hostileCase struct {
	name  string
	setup func(t *testing.T, e hostileEnv)
	args  []string // default: generate; --dir is added
	code  int
	want  []string // in stdout or stderr
	// writes allows the command to change the project; check says what
	// must hold then. Without it the project must stay byte-identical.
	writes bool
	check  func(t *testing.T, e hostileEnv)
}

// hang is how long a case may run before it counts as a hang; a normal
// run takes a few seconds even on a loaded machine.
const hang = 3 * time.Minute

func runHostile(t *testing.T, c hostileCase) {
	t.Helper()
	e := hostileEnv{dir: newProject(t), outside: filepath.Join(t.TempDir(), "outside")}
	write(t, e.outside, "sentinel.txt", "outside the project\n")
	if c.setup != nil {
		c.setup(t, e)
	}
	beforeProject, beforeOutside := treeState(t, e.dir), treeState(t, e.outside)
	args := c.args
	if args == nil {
		args = []string{"generate"}
	}
	code, stdout, stderr := runGuarded(t, append(args, "--dir", e.dir)...)
	out := stdout + stderr
	if code != c.code {
		t.Errorf("exit %d, want %d\n%s", code, c.code, out)
	}
	for _, w := range c.want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	noCrash(t, out)
	if !c.writes && treeState(t, e.dir) != beforeProject {
		t.Errorf("the project changed")
	}
	if treeState(t, e.outside) != beforeOutside {
		t.Errorf("the directory outside the project changed")
	}
	if c.check != nil {
		c.check(t, e)
	}
}

// runGuarded runs spgen in-process and fails the test when it does not
// return: a hang is a bug like a crash.
func runGuarded(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := run(t, args...)
		done <- result{code, stdout, stderr}
	}()
	select {
	case r := <-done:
		return r.code, r.stdout, r.stderr
	case <-time.After(hang):
		t.Fatalf("spgen %s did not return within %s", strings.Join(args, " "), hang)
	}
	return 0, "", ""
}

// noCrash fails on a runtime panic or stack dump in spgen's output.
func noCrash(t *testing.T, out string) {
	t.Helper()
	for _, sign := range []string{"panic:", "goroutine ", "runtime error", "fatal error:"} {
		if strings.Contains(out, sign) {
			t.Errorf("spgen crashed (%q):\n%s", sign, out)
		}
	}
}

// treeState fingerprints every entry below dir without opening anything
// but regular files: special files (named pipes, devices) are recorded by
// type, links by target, mount points by device.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			lines = append(lines, fmt.Sprintf("%s/ %d", rel, info.Sys().(*syscall.Stat_t).Dev))
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			lines = append(lines, rel+" -> "+target)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("%s %x %d", rel, sha256.Sum256(data), info.ModTime().UnixNano()))
		default:
			lines = append(lines, fmt.Sprintf("%s %v", rel, info.Mode().Type()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

const (
	controllerFile = "internal/controller/velero_controller.go"
	typesFile      = "api/v1alpha1/velero_types.go"
	// deploymentsMarker is the last permission marker of the scaffold's
	// controller; a marker added after it is on line 67.
	deploymentsMarker = "// +spgen:rbac:cluster=mcp,groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete"
	versionField      = "Version string `json:\"version\"`"
)

// addMarker puts marker on line 67 of the controller.
func addMarker(marker string) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) {
		edit(t, filepath.Join(e.dir, controllerFile), deploymentsMarker, deploymentsMarker+"\n"+marker)
	}
}

// addField puts a field on line 31 of the Velero types.
func addField(field string, extra string) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) {
		edit(t, filepath.Join(e.dir, typesFile), versionField, versionField+"\n\t"+field)
		if extra != "" {
			f, err := os.OpenFile(filepath.Join(e.dir, typesFile), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(extra); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// replaceFile puts something else in place of a project file.
func replaceFile(rel string, make func(path string) error) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) {
		full := filepath.Join(e.dir, filepath.FromSlash(rel))
		if err := os.RemoveAll(full); err != nil {
			t.Fatal(err)
		}
		if err := make(full); err != nil {
			t.Fatal(err)
		}
	}
}

func fifo(path string) error { return syscall.Mkfifo(path, 0o644) }

func linkTo(target string) func(string) error {
	return func(path string) error { return os.Symlink(target, path) }
}

func sparse(size int64) func(string) error {
	return func(path string) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Truncate(size)
	}
}

// socket binds a Unix socket to a short path (socket addresses are limited
// to 108 bytes) and moves it to path.
func socket(path string) error {
	dir, err := os.MkdirTemp("", "sock")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	short := filepath.Join(dir, "s")
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: short}); err != nil {
		return err
	}
	return os.Rename(short, path)
}

// journal leaves a committed transaction in the project, as an interrupted
// run (or someone planting one) would.
func journal(plan string, files map[string]string) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) {
		write(t, e.dir, ".spgen/txn/plan.json", plan)
		for rel, content := range files {
			write(t, e.dir, ".spgen/txn/files/"+rel, content)
		}
	}
}

func appendSpec(text string) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) {
		write(t, e.dir, "spgen.yaml", readFile(t, filepath.Join(e.dir, "spgen.yaml"))+text)
	}
}

func editSpec(old, new string) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) { edit(t, filepath.Join(e.dir, "spgen.yaml"), old, new) }
}

// generatedEntry records a generated file in the lock with the hash of
// recorded, and writes content to it.
func generatedEntry(rel, recorded, content string) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) {
		write(t, e.dir, rel, content)
		lock := readFile(t, filepath.Join(e.dir, ".spgen", "lock.yaml"))
		entry := fmt.Sprintf("- hash: %s\n  owner: generated\n  path: %s\n", scaffold.Hash([]byte(recorded)), rel)
		write(t, e.dir, ".spgen/lock.yaml", strings.Replace(lock, "files:\n", "files:\n"+entry, 1))
	}
}

func steps(fns ...func(t *testing.T, e hostileEnv)) func(t *testing.T, e hostileEnv) {
	return func(t *testing.T, e hostileEnv) {
		for _, f := range fns {
			f(t, e)
		}
	}
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

const markerAt = controllerFile + ":50"

// TestHostileRoundTwo holds one case per reported problem of the second
// round of hostile inputs; each failed before the fix.
func TestHostileRoundTwo(t *testing.T) {
	cases := []hostileCase{
		// 2. Malformed permission markers: located errors, no crash.
		{name: "2 rbac marker without verbs", setup: addMarker("// +spgen:rbac:cluster=mcp,groups=apps,verbs"),
			code: cli.ExitError, want: []string{markerAt, "malformed marker", `missing argument "verbs"`}},
		{name: "2 rbac marker with resource for resources", setup: addMarker("// +spgen:rbac:cluster=mcp,groups=apps,resource=deployments,verbs=get"),
			code: cli.ExitError, want: []string{markerAt, `unknown argument "resource"`}},
		{name: "2 rbac marker with urls", setup: addMarker("// +spgen:rbac:cluster=mcp,urls=*,verbs=get"),
			code: cli.ExitError, want: []string{markerAt, `unknown argument "urls"`}},
		{name: "2 rbac marker with an unbalanced quote", setup: addMarker(`// +spgen:rbac:cluster=mcp,groups="apps,resources=deployments,verbs=get`),
			code: cli.ExitError, want: []string{markerAt, "literal not terminated"}},
		{name: "2 kubebuilder rbac marker without verbs", setup: addMarker("// +kubebuilder:rbac:groups=apps,verbs"),
			code: cli.ExitError, want: []string{markerAt, "malformed marker +kubebuilder:rbac"}},
		{name: "2 service rbac marker without verbs", setup: addMarker("// +spgen:service:rbac:groups=apps,verbs"),
			code: cli.ExitError, want: []string{markerAt, "malformed marker +spgen:service:rbac"}},
		// 3. Types the generators crashed on.
		{name: "3 map of any", setup: addField("Values map[string]any `json:\"values,omitempty\"`", ""),
			code: cli.ExitError, want: []string{typesFile + ":31:2", "VeleroSpec.Values", "interface type any", "apiextensionsv1.JSON"}},
		{name: "3 struct containing itself", setup: addField("Root *Node `json:\"root,omitempty\"`", "\ntype Node struct {\n\tChildren []Node `json:\"children,omitempty\"`\n}\n"),
			code: cli.ExitError, want: []string{"type Node contains itself", "Node.Children", "recursive"}},
		// 4. A project reached through a symbolic link.
		{name: "4 check through a linked project directory", setup: addField("Replicas int32 `json:\"replicas,omitempty\"`", ""),
			args: []string{"generate", "--check"}, code: cli.ExitError, want: []string{"out of date", "_veleroes.yaml"}},
		// 7. Special and huge files.
		{name: "7 named pipe in place of a generated file", setup: replaceFile("config/rbac/role.yaml", fifo),
			code: cli.ExitUsage, want: []string{"config/rbac/role.yaml", "named pipe", "not a regular file"}},
		{name: "7 source linked to the zero device", setup: replaceFile("api/v1alpha1/zero.go", linkTo("/dev/zero")),
			code: cli.ExitUsage, want: []string{"api/v1alpha1/zero.go", "character device"}},
		{name: "7 sparse source of 4 GiB", setup: replaceFile("internal/controller/big.go", sparse(4<<30)),
			args: []string{"generate", "--dry-run"}, code: cli.ExitUsage, want: []string{"internal/controller/big.go", "4294967296 bytes", "at most"}},
		// 8. The header of generated files is an input of generation.
		{name: "8 changed boilerplate is drift", setup: func(t *testing.T, e hostileEnv) {
			if code, _, stderr := run(t, "generate", "--check", "--dir", e.dir); code != 0 {
				t.Fatalf("first check: exit %d\n%s", code, stderr)
			}
			edit(t, filepath.Join(e.dir, "hack/boilerplate.go.txt"), "Copyright", "Copyright (c) Example Corp.")
		}, args: []string{"generate", "--check"}, code: cli.ExitError, want: []string{"out of date", "zz_generated.deepcopy.go"}},
		// 10. Limits.
		{name: "10 version name of 64 characters", setup: editSpec("version: v1alpha1", "version: v1alpha"+strings.Repeat("1", 57)),
			code: cli.ExitUsage, want: []string{"spgen.yaml:", "64 characters", "DNS-1035 label of at most 63"}},
		{name: "10 kind too long for the test namespace", args: []string{"add-api", "--kind", "V" + strings.Repeat("x", 49)},
			code: cli.ExitUsage, want: []string{"test namespace", "Kubernetes allows 63"}},
		{name: "10 two storage versions", setup: func(t *testing.T, e hostileEnv) {
			if code, _, stderr := run(t, "add-api", "--kind", "Velero", "--version", "v1beta1", "--skip-verify", "--dir", e.dir); code != 0 {
				t.Fatalf("add-api v1beta1: exit %d\n%s", code, stderr)
			}
			edit(t, filepath.Join(e.dir, "api/v1beta1/velero_types.go"), "// +kubebuilder:subresource:status", "// +kubebuilder:subresource:status\n// +kubebuilder:storageversion")
		}, code: cli.ExitError, want: []string{"kind Velero is marked +kubebuilder:storageversion in 2 API versions", "api/v1alpha1/velero_types.go:", "api/v1beta1/velero_types.go:"}},
		// 11. Journals: checked whole, never applied by read-only commands.
		{name: "11 journal and --check", setup: journal(`{"write":["README.md"],"remove":[]}`, map[string]string{"README.md": "planted\n"}),
			args: []string{"generate", "--check"}, code: cli.ExitUsage, want: []string{"interrupted spgen run", "not applied yet", "writes nothing"}},
		{name: "11 journal and --dry-run", setup: journal(`{"write":["README.md"],"remove":[]}`, map[string]string{"README.md": "planted\n"}),
			args: []string{"generate", "--dry-run"}, code: cli.ExitUsage, want: []string{"interrupted spgen run"}},
		{name: "11 journal writing a bad spgen.yaml", setup: journal(`{"write":["README.md","spgen.yaml"],"remove":[]}`, map[string]string{"README.md": "planted\n", "spgen.yaml": "module: x\n"}),
			code: cli.ExitUsage, want: []string{"spgen.yaml", "were not applied"}},
		{name: "11 journal escaping after a valid entry", setup: journal(`{"write":["README.md","../escape"],"remove":[]}`, map[string]string{"README.md": "planted\n"}),
			code: cli.ExitUsage, want: []string{"plan.json", `"../escape"`, "leaves the project", "nothing of it was applied"}},
		{name: "11 journal entry that is a link", setup: steps(journal(`{"write":["README.md"],"remove":[]}`, nil), func(t *testing.T, e hostileEnv) {
			if err := os.MkdirAll(filepath.Join(e.dir, ".spgen/txn/files"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(e.outside, "sentinel.txt"), filepath.Join(e.dir, ".spgen/txn/files/README.md")); err != nil {
				t.Fatal(err)
			}
		}), code: cli.ExitUsage, want: []string{".spgen/txn/files/README.md", "not a regular file"}},
		{name: "11 journal entry that is a directory", setup: journal(`{"write":["docs"],"remove":[]}`, map[string]string{"docs/x.md": "x\n"}),
			code: cli.ExitUsage, want: []string{".spgen/txn/files/docs", "not a regular file"}},
		// 12. Smaller ones.
		{name: "12 key in upper case", setup: appendSpec("MODULE: example.com/other\n"),
			code: cli.ExitUsage, want: []string{"spgen.yaml:13", `unknown field "MODULE"`, "case-sensitive"}},
		{name: "12 key in two cases", setup: appendSpec("Group: other\n"),
			code: cli.ExitUsage, want: []string{"spgen.yaml:13", `"Group"`, `write "group"`}},
		{name: "12 key given twice", setup: appendSpec("group: other\n"),
			code: cli.ExitUsage, want: []string{"spgen.yaml:13", `key "group" is given twice (first on line 3)`}},
		{name: "12 second YAML document", setup: appendSpec("---\nmodule: example.com/other\n"),
			code: cli.ExitUsage, want: []string{"spgen.yaml:", "second YAML document"}},
		{name: "12 group edited by hand", setup: editSpec("group: velero", "group: other"),
			code: cli.ExitError, want: []string{"api/v1alpha1/groupversion_info.go:", "+groupName=velero.services.open-control-plane.io", "other.services.open-control-plane.io"}},
		{name: "12 lock path with a newline", setup: func(t *testing.T, e hostileEnv) { appendLock(t, e.dir, "api/x\ny.go", "generated") },
			code: cli.ExitUsage, want: []string{".spgen/lock.yaml", "control characters"}},
		{name: "12 stale generated file the user edited is kept", setup: generatedEntry("internal/wiring/zz_generated.extra.go", "package wiring\n", "package wiring\n\n// mine\n"),
			code: 0, writes: true, want: []string{"kept internal/wiring/zz_generated.extra.go", "yours now"}, check: func(t *testing.T, e hostileEnv) {
				if readFile(t, filepath.Join(e.dir, "internal/wiring/zz_generated.extra.go")) != "package wiring\n\n// mine\n" {
					t.Error("the edited file changed")
				}
				if strings.Contains(readFile(t, filepath.Join(e.dir, ".spgen/lock.yaml")), "zz_generated.extra.go") {
					t.Error("the lock still records the kept file as generated")
				}
			}},
		{name: "12 stale generated file not edited is removed", setup: generatedEntry("internal/wiring/zz_generated.extra.go", "package wiring\n", "package wiring\n"),
			code: 0, writes: true, want: []string{"remove  internal/wiring/zz_generated.extra.go"}, check: func(t *testing.T, e hostileEnv) {
				if exists(t, filepath.Join(e.dir, "internal/wiring/zz_generated.extra.go")) {
					t.Error("the stale file is still there")
				}
			}},
		{name: "12 misspelt spgen marker", setup: addMarker("// +spgen:rbca:cluster=mcp,groups=apps,resources=deployments,verbs=get"),
			code: cli.ExitError, want: []string{markerAt, "unknown marker +spgen:rbca:cluster", "did you mean +spgen:rbac?"}},
		{name: "12 misspelt validation marker", setup: func(t *testing.T, e hostileEnv) {
			edit(t, filepath.Join(e.dir, typesFile), "// +kubebuilder:validation:MinLength=1", "// +kubebuilder:validaton:MinLength=1")
		}, args: []string{"generate", "--dry-run"}, code: 0,
			want: []string{"warning: " + typesFile + ":28: unknown marker +kubebuilder:validaton:MinLength is ignored (did you mean +kubebuilder:validation:MinLength?)"}},
		{name: "12 cluster that does not exist", setup: addMarker("// +spgen:rbac:cluster=nowhere,groups=apps,resources=deployments,verbs=get"),
			code: cli.ExitError, want: []string{markerAt, `cluster "nowhere" does not exist`}},
		{name: "12 wildcard on the MCP cluster", setup: addMarker("// +spgen:rbac:cluster=mcp,groups=*,resources=*,verbs=*"),
			args: []string{"generate", "--dry-run"}, code: 0, want: []string{"warning: " + markerAt, "wildcard (*) on the mcp cluster"}},
		{name: "12 wildcard on the onboarding cluster", setup: addMarker("// +spgen:rbac:cluster=onboarding,groups=\"\",resources=secrets,verbs=*"),
			args: []string{"generate", "--dry-run"}, code: 0, want: []string{"warning: " + markerAt, "wildcard (*) on the onboarding cluster"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if strings.HasPrefix(c.name, "4 ") {
				runThroughLink(t, c)
				return
			}
			runHostile(t, c)
		})
	}
}

// runThroughLink runs a case with --dir naming a symbolic link to the
// project, after a first generate --check through the link (which once
// remembered a result for a project it saw no file of).
func runThroughLink(t *testing.T, c hostileCase) {
	t.Helper()
	e := hostileEnv{dir: newProject(t)}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(e.dir, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runGuarded(t, "generate", "--check", "--dir", link); code != 0 {
		t.Fatalf("first check through the link: exit %d\n%s", code, stderr)
	}
	c.setup(t, e)
	before := treeState(t, e.dir)
	code, stdout, stderr := runGuarded(t, append(c.args, "--dir", link)...)
	if code != c.code {
		t.Errorf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
	}
	for _, w := range c.want {
		if !strings.Contains(stdout+stderr, w) {
			t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
		}
	}
	if treeState(t, e.dir) != before {
		t.Error("the project changed")
	}
}

// TestProjectThroughLink: add-api and generate on a project reached through
// a symbolic link (from a working directory inside the link, too) work on
// the directory the link points to and leave the link alone.
func TestProjectThroughLink(t *testing.T) {
	dir := newProject(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runGuarded(t, "add-api", "--kind", "Schedule", "--skip-verify", "--dir", link); code != 0 {
		t.Fatalf("add-api through a link: exit %d\n%s", code, stderr)
	}
	if !exists(t, filepath.Join(dir, "api/v1alpha1/schedule_types.go")) {
		t.Error("add-api through a link did not write into the project")
	}
	edit(t, filepath.Join(dir, "api/v1alpha1/schedule_types.go"), versionField, versionField+"\n\tReplicas int32 `json:\"replicas,omitempty\"`")
	before := treeState(t, dir)
	cmd := spgenCommand(t, filepath.Join(link, "api"), nil, "generate", "--check")
	out, err := cmd.CombinedOutput()
	var exit interface{ ExitCode() int }
	if !errors.As(err, &exit) || exit.ExitCode() != cli.ExitError || !strings.Contains(string(out), "_schedules.yaml") {
		t.Errorf("generate --check from inside a linked project: %v, want exit 1 naming the stale CRD\n%s", err, out)
	}
	if treeState(t, dir) != before {
		t.Error("generate --check changed the project")
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link is gone")
	}
}

// TestUpgradeDryRunLeavesLinkedGoModAlone: the stage of an upgrade --dry-run
// (of a project reached through a symbolic link) hard-links the project's
// files; go mod tidy in the stage must not write
// through the link into go.mod, nor into a file outside the project that
// go.mod is linked to.
func TestUpgradeDryRunLeavesLinkedGoModAlone(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "sp-velero")
	if code, _, stderr := run(t, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", dir, "--templates", "6", "--skip-verify"); code != 0 {
		t.Fatalf("init --templates 6: exit %d\n%s", code, stderr)
	}
	// Without the e2e tests, go mod tidy drops requirements: the stage's
	// go.mod is then different from the project's.
	if err := os.RemoveAll(filepath.Join(dir, "test", "e2e")); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(parent, "outside.mod")
	if err := os.Link(filepath.Join(dir, "go.mod"), outside); err != nil {
		t.Fatal(err)
	}
	// Through a link, too: the stage must hold the project's files.
	link := filepath.Join(parent, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	before, beforeOutside := treeState(t, dir), readFile(t, outside)
	code, _, stderr := runGuarded(t, "upgrade", "--dry-run", "--dir", link)
	if code != 0 || !strings.Contains(stderr, "nothing was written") {
		t.Fatalf("upgrade --dry-run: exit %d\n%s", code, stderr)
	}
	if treeState(t, dir) != before {
		t.Error("upgrade --dry-run changed the project")
	}
	if readFile(t, outside) != beforeOutside {
		t.Error("upgrade --dry-run changed a file outside the project through a hard link")
	}
}

// TestReadOnlyWithModMod: GOFLAGS=-mod=mod lets the go command update
// go.sum; generate --check and --dry-run must still write nothing.
func TestReadOnlyWithModMod(t *testing.T) {
	dir := newProject(t)
	sum := readFile(t, filepath.Join(dir, "go.sum"))
	var kept []string
	for _, line := range strings.Split(sum, "\n") {
		if !strings.HasPrefix(line, "k8s.io/apimachinery ") {
			kept = append(kept, line)
		}
	}
	write(t, dir, "go.sum", strings.Join(kept, "\n"))
	for _, args := range [][]string{{"generate", "--check"}, {"generate", "--dry-run"}, {"add-api", "--kind", "Schedule", "--dry-run"}} {
		before := treeState(t, dir)
		out, _ := spgenCommand(t, dir, []string{"GOFLAGS=-mod=mod"}, args...).CombinedOutput()
		noCrash(t, string(out))
		if !strings.Contains(string(out), "go.sum lacks checksums the build needs (run go mod tidy") {
			t.Errorf("spgen %s does not say what is wrong with go.sum:\n%s", strings.Join(args, " "), out)
		}
		if treeState(t, dir) != before {
			t.Errorf("spgen %s with GOFLAGS=-mod=mod changed the project:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestDowngradeRefused: an older spgen does not move a project's pin back
// unless asked.
func TestDowngradeRefused(t *testing.T) {
	saved := cli.Version
	t.Cleanup(func() { cli.Version = saved })
	cli.Version = "v1.0.0"
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if code, _, stderr := run(t, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", dir, "--skip-verify"); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, stderr)
	}
	cli.Version = "v0.9.0"
	before := treeState(t, dir)
	code, _, stderr := runGuarded(t, "upgrade", "--dir", dir)
	if code != cli.ExitUsage || !strings.Contains(stderr, "pins spgen v1.0.0, newer than this spgen (v0.9.0)") || !strings.Contains(stderr, "--allow-downgrade") {
		t.Errorf("upgrade by an older spgen: exit %d, want %d naming both versions\n%s", code, cli.ExitUsage, stderr)
	}
	if treeState(t, dir) != before {
		t.Error("the refused downgrade changed the project")
	}
	code, stdout, stderr := runGuarded(t, "upgrade", "--allow-downgrade", "--skip-verify", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "to templates") {
		t.Fatalf("upgrade --allow-downgrade: exit %d\n%s%s", code, stdout, stderr)
	}
	if lock := readFile(t, filepath.Join(dir, ".spgen/lock.yaml")); !strings.Contains(lock, "spgenVersion: v0.9.0") {
		t.Errorf("the pin did not move back:\n%s", lock)
	}
}

// mountTmpfs mounts an empty file system on dir, or skips the test where
// the machine does not allow it (mounting needs CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("spgen-test", dir, "tmpfs", 0, "size=16m"); err != nil {
		t.Skipf("cannot mount a file system here (%v): the mount cases need CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// TestInitAndMounts: init --force into a directory holding a mount point
// refuses before touching anything (it used to empty the mounted file
// system); a target that is itself a mount point is initialised in place.
func TestInitAndMounts(t *testing.T) {
	flags := []string{"--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--skip-verify"}
	parent := t.TempDir()
	target := filepath.Join(parent, "holding")
	mountTmpfs(t, filepath.Join(target, "data"))
	write(t, target, "data/keep.txt", "on another file system\n")
	before := treeState(t, parent)
	code, _, stderr := runGuarded(t, append([]string{"init", "--force", "--dir", target}, flags...)...)
	if code != cli.ExitUsage || !strings.Contains(stderr, "holds the mount point "+filepath.Join(target, "data")) {
		t.Errorf("init --force over a mount point: exit %d, want %d naming it\n%s", code, cli.ExitUsage, stderr)
	}
	if treeState(t, parent) != before {
		t.Error("the refused init changed the target, the mounted file system or the parent directory")
	}

	mounted := filepath.Join(t.TempDir(), "mounted")
	mountTmpfs(t, mounted)
	if code, _, stderr := runGuarded(t, append([]string{"init", "--dir", mounted}, flags...)...); code != 0 {
		t.Fatalf("init into a mount point: exit %d\n%s", code, stderr)
	}
	if !exists(t, filepath.Join(mounted, "spgen.yaml")) {
		t.Error("init into a mount point wrote no project")
	}
	if entries, _ := os.ReadDir(filepath.Dir(mounted)); len(entries) != 1 {
		t.Errorf("init left something beside the project: %v", entries)
	}
}

// TestInitIntoExistingDirectories: init into the working directory keeps
// that directory (a shell in it stays in the project), and init into a
// symbolic link writes into the directory it points to and keeps the link.
func TestInitIntoExistingDirectories(t *testing.T) {
	flags := []string{"--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--skip-verify"}
	dir := t.TempDir()
	before, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if code, _, stderr := runGuarded(t, append([]string{"init", "--dir", "."}, flags...)...); code != 0 {
		t.Fatalf("init --dir .: exit %d\n%s", code, stderr)
	}
	after, err := os.Stat(dir)
	if err != nil || !os.SameFile(before, after) {
		t.Error("init --dir . replaced the working directory")
	}
	if !exists(t, filepath.Join(dir, "spgen.yaml")) || exists(t, filepath.Join(dir, ".spgen", "txn")) {
		t.Error("init --dir . did not finish the project")
	}

	parent := t.TempDir()
	real := filepath.Join(parent, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(parent, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runGuarded(t, append([]string{"init", "--dir", link}, flags...)...); code != 0 {
		t.Fatalf("init --dir link: exit %d\n%s", code, stderr)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Error("init --dir link replaced the link")
	}
	if !exists(t, filepath.Join(real, "spgen.yaml")) {
		t.Error("init --dir link did not write into the linked directory")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 2 {
		t.Errorf("init left something beside the project: %v", entries)
	}
}

// TestInterruptWhileWaiting: a command waiting for another one's project
// lock (a wait that does not watch for interrupts) ends within 2 s of a
// single SIGINT, exit 130, having written nothing.
func TestInterruptWhileWaiting(t *testing.T) {
	dir := newProject(t)
	held, err := flock.Acquire(filepath.Join(dir, ".spgen"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	before := treeState(t, dir)
	p := start(t, dir, []string{cli.LockWaitVariable + "=10m"}, "generate")
	p.waitFor(t, "another spgen command is working on this project", time.Minute)
	code, took := p.interrupt(t)
	if code != cli.ExitInterrupted || took > 2*time.Second {
		t.Errorf("exit %d after %s, want %d within 2s\n%s", code, took, cli.ExitInterrupted, p.output())
	}
	if treeState(t, dir) != before {
		t.Error("the interrupted command changed the project")
	}
}

// spgenCommand is the spgen binary run in dir with extra environment.
func spgenCommand(t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(spgenBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), testutil.ProcessTempDir(t)), env...)
	return cmd
}

// TestSingleInterruptStopsEveryCommand sends one SIGINT to each command
// while it works: it must end within 2 s, with exit 130 and nothing
// written (or, if it finished first, exit 0).
func TestSingleInterruptStopsEveryCommand(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		wait string
		// finished is the exit code of a run the signal reached too late.
		finished int
	}{
		{"generate", []string{"generate"}, "generating deepcopy", 0},
		{"generate --check", []string{"generate", "--check"}, "generating deepcopy", cli.ExitError},
		{"add-api", []string{"add-api", "--kind", "Schedule"}, "generating deepcopy", 0},
		{"add-api --dry-run", []string{"add-api", "--kind", "Schedule", "--dry-run"}, "generating deepcopy", 0},
		{"init over the project", []string{"init", "--force", "--dir", ".", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero"}, "rendering templates", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := newProject(t)
			// The edit makes generation do real work instead of answering
			// from its cache.
			edit(t, filepath.Join(dir, typesFile), versionField, versionField+"\n\tReplicas int32 `json:\"replicas,omitempty\"`")
			before := treeState(t, dir)
			p := start(t, dir, nil, c.args...)
			p.waitFor(t, c.wait, 2*time.Minute)
			code, took := p.interrupt(t)
			t.Logf("exit %d, %s after SIGINT", code, took)
			if took > 2*time.Second {
				t.Errorf("took %s to stop after one SIGINT\n%s", took, p.output())
			}
			switch code {
			case cli.ExitInterrupted:
				if treeState(t, dir) != before {
					t.Errorf("exit 130, but the project changed\n%s", p.output())
				}
			case c.finished:
				// Finished before the signal arrived.
			default:
				t.Errorf("exit %d, want %d (or %d, finished first)\n%s", code, cli.ExitInterrupted, c.finished, p.output())
			}
			noCrash(t, p.output())
		})
	}
}
