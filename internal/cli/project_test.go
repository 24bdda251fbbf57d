package cli_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/testutil"
)

var (
	baseOnce sync.Once
	baseDir  string
	baseErr  error
)

// newProject copies one project created by init (once per test binary) into
// a fresh directory.
func newProject(t *testing.T) string {
	t.Helper()
	baseOnce.Do(func() {
		var tmp string
		tmp, baseErr = testutil.SharedDir("spgen-cli-base-")
		if baseErr != nil {
			return
		}
		baseDir = filepath.Join(tmp, "sp-velero")
		_, baseErr = initialize.Run(context.Background(), &spec.Project{
			Module: "example.com/acme/sp-velero", Group: "velero", ProviderName: "velero",
			Kinds: []spec.Kind{{Kind: "Velero", Version: spec.DefaultVersion}},
		}, initialize.Options{Dir: baseDir, SkipVerify: true, SpgenVersion: "devel"})
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if err := os.CopyFS(dir, os.DirFS(baseDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// state fingerprints every file below dir: path, content and modification
// time, so that "writes nothing" also catches rewrites of identical content.
func state(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			rel, _ := filepath.Rel(dir, p)
			lines = append(lines, rel+" -> "+target)
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		lines = append(lines, fmt.Sprintf("%s %x %d", rel, sha256.Sum256(data), info.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProjectCommandsBadInput: exit 2, a message naming the problem, and an
// untouched project.
func TestProjectCommandsBadInput(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		setup func(t *testing.T, dir string)
		want  []string
	}{
		{name: "generate outside a project", args: []string{"generate"}, setup: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "spgen.yaml")); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"not a spgen project", "spgen init"}},
		{name: "add-api outside a project", args: []string{"add-api", "--kind", "Schedule"}, setup: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "spgen.yaml")); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"not a spgen project"}},
		{name: "malformed spgen.yaml", args: []string{"generate"}, setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "spgen.yaml"), []byte("module: [unclosed\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"spgen.yaml"}},
		{name: "unknown field in spgen.yaml", args: []string{"generate"}, setup: func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "spgen.yaml"), "group: velero", "group: velero\ngroupp: typo")
		}, want: []string{"spgen.yaml", `unknown field "groupp"`}},
		{name: "invalid kind in spgen.yaml", args: []string{"generate"}, setup: func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "spgen.yaml"), "kind: Velero", "kind: velero")
		}, want: []string{`spgen.yaml:5: kinds[0].kind "velero"`, "upper-case"}},
		{name: "missing lock file", args: []string{"generate"}, setup: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, ".spgen", "lock.yaml")); err != nil {
				t.Fatal(err)
			}
		}, want: []string{".spgen/lock.yaml"}},
		{name: "add-api kind lower case", args: []string{"add-api", "--kind", "schedule"}, want: []string{`--kind "schedule"`, "upper-case"}},
		{name: "add-api kind reserved", args: []string{"add-api", "--kind", "ProviderConfig"}, want: []string{"--kind", "collides"}},
		{name: "add-api kind missing", args: []string{"add-api"}, want: []string{"--kind", "must not be empty"}},
		{name: "add-api version malformed", args: []string{"add-api", "--kind", "Schedule", "--version", "v1alpha"}, want: []string{`--version "v1alpha"`, "v<N>"}},
		{name: "add-api version zero", args: []string{"add-api", "--kind", "Schedule", "--version", "v0"}, want: []string{"--version", "v<N>"}},
		{name: "add-api duplicate", args: []string{"add-api", "--kind", "Velero"}, want: []string{`--kind "Velero"`, "already exists in version v1alpha1"}},
		{name: "add-api kind sharing a plural", args: []string{"add-api", "--kind", "Veleroes"}, want: []string{`--kind "Veleroes"`, `resource name "veleroes" is already used by kind Velero`}},
		{name: "add-api kind named like a scaffold file", args: []string{"add-api", "--kind", "Main"}, want: []string{`--kind "Main"`, "test/e2e/main_test.go"}},
		{name: "add-api kind differing in case", args: []string{"add-api", "--kind", "VELERO", "--version", "v1"}, want: []string{`--kind "VELERO"`, `resource name "velero" is already used by kind Velero`}},
		{name: "add-api over a user file", args: []string{"add-api", "--kind", "Schedule"}, setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "internal", "controller", "schedule_controller.go"), []byte("package controller\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"would overwrite files spgen did not write", "internal/controller/schedule_controller.go"}},
		{name: "check with dry-run", args: []string{"generate", "--check", "--dry-run"}, want: []string{"cannot be combined"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := newProject(t)
			if c.setup != nil {
				c.setup(t, dir)
			}
			before := state(t, dir)
			code, stdout, stderr := run(t, append(c.args, "--dir", dir)...)
			if code != 2 {
				t.Fatalf("exit code %d, want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("message lacks %q:\n%s", w, stderr)
				}
			}
			if after := state(t, dir); after != before {
				t.Errorf("the project changed")
			}
		})
	}
}

// TestGenerateScenario is a day of API work: a field with validation markers
// is added, CI's check catches the stale CRD, generate fixes it, and a second
// generate writes nothing. A type error is reported with its position and
// nothing is written.
func TestGenerateScenario(t *testing.T) {
	dir := newProject(t)
	types := filepath.Join(dir, "api", "v1alpha1", "velero_types.go")

	if code, _, stderr := run(t, "generate", "--check", "--dir", dir); code != 0 {
		t.Fatalf("check on a fresh project: exit %d\n%s", code, stderr)
	}

	edit(t, types, "type VeleroSpec struct {", `type VeleroSpec struct {
	// BackupRetention is how long backups are kept.
	// +kubebuilder:validation:Pattern=`+"`^[0-9]+h$`"+`
	// +kubebuilder:default:="720h"
	// +optional
	BackupRetention string `+"`json:\"backupRetention,omitempty\"`"+`
`)
	before := state(t, dir)
	code, stdout, stderr := run(t, "generate", "--check", "--dir", dir)
	if code != 1 {
		t.Fatalf("check after editing types: exit %d, want 1\n%s", code, stderr)
	}
	crd := "api/crds/manifests/velero.services.open-control-plane.io_veleroes.yaml"
	for _, want := range []string{"--- a/" + crd, "+++ b/" + crd, "+              backupRetention:", "+                pattern: ^[0-9]+h$"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check diff lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, crd) {
		t.Errorf("check error does not name the CRD:\n%s", stderr)
	}
	if state(t, dir) != before {
		t.Fatal("generate --check wrote files")
	}

	code, stdout, _ = run(t, "generate", "--dry-run", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "+++ b/"+crd) || state(t, dir) != before {
		t.Fatalf("dry-run: exit %d, or no diff, or files written:\n%s", code, stdout)
	}

	code, stdout, stderr = run(t, "generate", "--dir", dir)
	if code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "update  "+crd) {
		t.Errorf("generate did not report the CRD:\n%s", stdout)
	}
	if code, _, stderr := run(t, "generate", "--check", "--dir", dir); code != 0 {
		t.Fatalf("check after generate: exit %d\n%s", code, stderr)
	}
	after := state(t, dir)
	code, stdout, _ = run(t, "generate", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "0 file(s) changed") {
		t.Fatalf("second generate: exit %d\n%s", code, stdout)
	}
	if state(t, dir) != after {
		t.Fatal("second generate wrote files")
	}

	// A type error in the user's types: reported with file and line, nothing written.
	edit(t, types, "BackupRetention string", "BackupRetention Duration")
	edit(t, types, "// BackupRetention is", "// +kubebuilder:validation:MaxLength=8\n\t// BackupRetention is")
	broken := state(t, dir)
	code, _, stderr = run(t, "generate", "--dir", dir)
	if code != 1 {
		t.Fatalf("generate with a type error: exit %d, want 1\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "api/v1alpha1/velero_types.go:") || !strings.Contains(stderr, "Duration") {
		t.Errorf("type error without position:\n%s", stderr)
	}
	if state(t, dir) != broken {
		t.Fatal("generate wrote files although the types do not compile")
	}
}

// Without --dir, the project is found from the working directory up.
func TestProjectFoundFromSubdirectory(t *testing.T) {
	dir := newProject(t)
	t.Chdir(filepath.Join(dir, "api", "v1alpha1"))
	if code, _, stderr := run(t, "generate", "--check"); code != 0 {
		t.Fatalf("generate --check in a subdirectory: exit %d\n%s", code, stderr)
	}
	t.Chdir(t.TempDir())
	code, _, stderr := run(t, "generate", "--check")
	if code != 2 || !strings.Contains(stderr, "or any parent directory") {
		t.Fatalf("outside a project: exit %d\n%s", code, stderr)
	}
}

func TestAddAPIDryRun(t *testing.T) {
	dir := newProject(t)
	before := state(t, dir)
	code, stdout, stderr := run(t, "add-api", "--kind", "Schedule", "--dry-run", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"--- /dev/null\n+++ b/api/v1alpha1/schedule_types.go", "+type Schedule struct {", "--- a/spgen.yaml\n+++ b/spgen.yaml", "+- kind: Schedule", "+++ b/internal/wiring/zz_generated.wiring.go", "+func NewScheduleV1alpha1Reconciler("} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry-run diff lacks %q", want)
		}
	}
	if !strings.Contains(stderr, "nothing was written") || state(t, dir) != before {
		t.Fatal("add-api --dry-run wrote files or did not say it wrote nothing")
	}
}

// TestGenerateRemembers: generate answers sources it has seen from its
// cache, and every input of generation is part of what it remembers: an
// undone edit restores the generated files exactly, a changed marker or a
// new package in the module is never answered with an older result.
func TestGenerateRemembers(t *testing.T) {
	dir := newProject(t)
	types := filepath.Join(dir, "api", "v1alpha1", "velero_types.go")
	controller := filepath.Join(dir, "internal", "controller", "velero_controller.go")
	crd := filepath.Join(dir, "api", "crds", "manifests", "velero.services.open-control-plane.io_veleroes.yaml")
	role := filepath.Join(dir, "config", "rbac", "role.yaml")
	generate := func(want string) {
		t.Helper()
		code, stdout, stderr := run(t, "generate", "--dir", dir)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Fatalf("generate: exit %d, want %q in\n%s%s", code, want, stdout, stderr)
		}
	}
	generate("0 file(s) changed")
	original, origCRD := readFile(t, types), readFile(t, crd)

	edit(t, types, "type VeleroSpec struct {", "type VeleroSpec struct {\n\t// Remembered is a new field.\n\t// +optional\n\tRemembered string `json:\"remembered,omitempty\"`\n")
	generate("update  api/crds/manifests/")
	if !strings.Contains(readFile(t, crd), "remembered:") {
		t.Fatal("the CRD lacks the new field")
	}
	if err := os.WriteFile(types, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	generate("update  api/crds/manifests/")
	if readFile(t, crd) != origCRD {
		t.Fatal("undoing the edit did not restore the CRD")
	}

	edit(t, controller, "// +spgen:rbac:cluster=mcp,groups=apps,resources=deployments,", "// +spgen:rbac:cluster=mcp,groups=\"\",resources=services,verbs=get\n// +spgen:rbac:cluster=mcp,groups=apps,resources=deployments,")
	generate("update  config/rbac/role.yaml")
	if !strings.Contains(readFile(t, role), "services") {
		t.Fatal("the role lacks the new permission")
	}

	// A type of another local package, used in the API: generation reads it.
	write(t, dir, "pkg/retention/retention.go", "// Package retention describes how long backups are kept.\npackage retention\n\n// Policy is a retention policy.\ntype Policy struct {\n\t// Days to keep.\n\tDays int `json:\"days\"`\n}\n")
	edit(t, types, "type VeleroSpec struct {", "type VeleroSpec struct {\n\t// Retention of backups.\n\t// +optional\n\tRetention *retention.Policy `json:\"retention,omitempty\"`\n")
	edit(t, types, "import (", "import (\n\t\"example.com/acme/sp-velero/pkg/retention\"\n")
	generate("update  api/crds/manifests/")
	write(t, dir, "pkg/retention/retention.go", "// Package retention describes how long backups are kept.\npackage retention\n\n// Policy is a retention policy.\ntype Policy struct {\n\t// Hours to keep.\n\tHours int `json:\"hours\"`\n}\n")
	generate("update  api/crds/manifests/")
	if c := readFile(t, crd); !strings.Contains(c, "hours:") || strings.Contains(c, "days:") {
		t.Fatal("the CRD does not follow the other package's type")
	}
}
