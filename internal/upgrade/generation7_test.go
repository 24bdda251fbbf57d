package upgrade_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/stack"
	"github.com/open-control-plane/spgen/internal/testutil/envtestbin"
	"github.com/open-control-plane/spgen/internal/upgrade"
)

// TestUpgradeFromGeneration7 is the stack move of generation 8
// (Kubernetes 0.36 → 0.37, controller-runtime 0.24 → 0.25, API servers
// 1.36 → 1.37) made through upgrade: every golden option set, written by
// generation 7 and then edited by its user in the reconciler, the types, a
// package of their own and go.mod, upgrades without a conflict and vets;
// the Helm project for a workload cluster with two kinds, the richest
// option set, passes its reconcilers' own tests with the user's code merged
// into them (the golden suite runs every current project's tests, the
// local openMCP included).
func TestUpgradeFromGeneration7(t *testing.T) {
	gen7, err := render.LookupGeneration("7")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := filepath.Glob(filepath.Join("..", "..", "golden", "*", spec.FileName))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden option sets: %v", err)
	}
	for _, c := range cases {
		name := filepath.Base(filepath.Dir(c))
		t.Run(name, func(t *testing.T) {
			p, err := spec.Load(filepath.Dir(c))
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "sp-velero")
			if _, err := initialize.Run(context.Background(), p, initialize.Options{Dir: dir, SkipVerify: true, SpgenVersion: "devel", Generation: gen7}); err != nil {
				t.Fatal(err)
			}
			editAsUser(t, dir)
			res, err := runUpgrade(t, dir, upgrade.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Generation 10 moved the steps every kind shares out of
			// each kind's reconciler: the user's code there merges with
			// it. The types keep the user's version as it is.
			for path, want := range map[string]string{controllerFile: upgrade.Merged, typesFile: upgrade.Kept, "go.mod": upgrade.Merged, "README.md": upgrade.Replaced, newWorkflow: upgrade.Created} {
				if got := action(res, path); got != want {
					t.Errorf("%s: %q, want %q", path, got, want)
				}
			}
			if !strings.Contains(read(t, dir, controllerFile), "naming.Same(a, b)") || !strings.Contains(read(t, dir, typesFile), "Schedule string") {
				t.Error("the user's edits are gone")
			}
			mod := read(t, dir, "go.mod")
			for _, want := range []string{"github.com/google/go-cmp v0.7.0", "sigs.k8s.io/controller-runtime " + stackVersion(t, "sigs.k8s.io/controller-runtime"), "k8s.io/api " + stackVersion(t, "k8s.io/api")} {
				if !strings.Contains(mod, want) {
					t.Errorf("upgraded go.mod lacks %q", want)
				}
			}
			if name == "helm-workload" {
				testProject(t, dir, "./internal/...")
				return
			}
			vet := exec.Command("go", "vet", "./...")
			vet.Dir = dir
			if out, err := vet.CombinedOutput(); err != nil {
				t.Fatalf("go vet: %v\n%s", err, out)
			}
		})
	}
}

// editAsUser makes the edits a provider's team makes: a field in the
// types, a package of its own that needs a module, used by the reconciler.
func editAsUser(t *testing.T, dir string) {
	t.Helper()
	replace(t, dir, typesFile, "type VeleroSpec struct {", "type VeleroSpec struct {\n\t// Schedule is the user's field.\n\t// +optional\n\tSchedule string `json:\"schedule,omitempty\"`\n")
	if err := os.MkdirAll(filepath.Join(dir, "pkg", "naming"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "pkg/naming/naming.go", "// Package naming names things.\npackage naming\n\nimport \"github.com/google/go-cmp/cmp\"\n\n// Same reports whether two names are equal.\nfunc Same(a, b string) bool { return cmp.Equal(a, b) }\n")
	goCmd(t, dir, "get", "github.com/google/go-cmp@v0.7.0")
	managedImport := "\t\"example.com/acme/sp-velero/internal/managed\"\n"
	replace(t, dir, controllerFile, managedImport, managedImport+"\t\"example.com/acme/sp-velero/pkg/naming\"\n")
	replace(t, dir, controllerFile, "func veleroNamespace(", "// sameName is the user's own code.\nfunc sameName(a, b string) bool { return naming.Same(a, b) }\n\nvar _ = sameName\n\nfunc veleroNamespace(")
}

func stackVersion(t *testing.T, module string) string {
	t.Helper()
	for _, m := range stack.Direct {
		if m.Path == module {
			return m.Version
		}
	}
	t.Fatalf("%s is not in the stack", module)
	return ""
}

// testProject runs the project's own tests in packages (all when none are
// named) against the stack's API server.
func testProject(t *testing.T, dir string, packages ...string) {
	t.Helper()
	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(packages) == 0 {
		packages = []string{"./..."}
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1"}, packages...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the upgraded project's tests: %v\n%s", err, out)
	}
}
