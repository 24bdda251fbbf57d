package upgrade_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/upgrade"
)

// TestUpgradeFromGeneration6 moves a provider whose tests downloaded their
// API server binaries and whose `task dev` ran through `go run` to tests
// that build the binaries from the module proxy, a dev loop that stops on
// every signal, and managed sets that name the whole missing rule: the
// user's own task, test and dependency survive, setup-envtest leaves
// go.mod, and the result builds and vets.
func TestUpgradeFromGeneration6(t *testing.T) {
	gen6, err := render.LookupGeneration("6")
	if err != nil {
		t.Fatal(err)
	}
	p := veleroProject()
	p.Options.WorkloadCluster = true
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if _, err := initialize.Run(context.Background(), p, initialize.Options{Dir: dir, SkipVerify: true, SpgenVersion: "devel", Generation: gen6}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(read(t, dir, "go.mod"), "sigs.k8s.io/controller-runtime/tools/setup-envtest") {
		t.Fatal("generation 6 did not require setup-envtest")
	}
	replace(t, dir, "Taskfile.yaml", "  build:\n", "  mine:\n    desc: The user's own task.\n    cmds:\n      - echo mine\n\n  build:\n")
	replace(t, dir, "test/local/main_test.go", "var env *local.Environment\n", "var env *local.Environment\n\n// userNote is the user's own.\nconst userNote = \"mine\"\n")

	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Conflicts(); len(c) > 0 {
		t.Fatalf("conflicts: %v", c)
	}
	for path, want := range map[string]string{
		"Taskfile.yaml":                        upgrade.Merged,
		"test/local/main_test.go":              upgrade.Merged,
		"test/apiserver/build.go":              upgrade.Created,
		"internal/managed/permissions.go":      upgrade.Created,
		"internal/managed/permissions_test.go": upgrade.Created,
	} {
		if got := action(res, path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	for path, wants := range map[string][]string{
		"Taskfile.yaml":           {"  mine:\n", "- go build -o bin/dev ./test/local/dev\n      - ./bin/dev\n"},
		"test/local/main_test.go": {"const userNote = \"mine\"", "if _, err := apiserver.Binaries(); err != nil {"},
		"test/local/dev/main.go":  {"syscall.SIGHUP, syscall.SIGPIPE", "provider.log"},
		"go.mod":                  {"golang.org/x/sys v0.49.0\n"},
	} {
		c := read(t, dir, path)
		for _, want := range wants {
			if !strings.Contains(c, want) {
				t.Errorf("upgraded %s lacks %q", path, want)
			}
		}
	}
	if strings.Contains(read(t, dir, "go.mod"), "setup-envtest") {
		t.Error("the upgraded go.mod still requires setup-envtest")
	}
	goBuildVet(t, dir)
}
