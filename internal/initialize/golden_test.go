package initialize_test

import (
	"context"
	"os/exec"
	pathpkg "path"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/typecheck"
)

// threeKinds is the option combination of the three-kinds case, the
// largest project init writes.
var threeKinds = spec.Options{WorkloadCluster: true, SecretWatcher: true, Sample: true}

func goldenProject(opts spec.Options) *spec.Project {
	return &spec.Project{
		Module:       "example.com/acme/sp-velero",
		Group:        "velero",
		ProviderName: "velero",
		Options:      opts,
		Kinds:        []spec.Kind{{Kind: "Velero", Version: spec.DefaultVersion}},
	}
}

// generate writes the project init makes with opts into a fresh directory
// without type checking.
func generate(t *testing.T, opts spec.Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if _, err := initialize.Run(context.Background(), goldenProject(opts), initialize.Options{Dir: dir, SkipVerify: true, SpgenVersion: "devel"}); err != nil {
		t.Fatalf("init: %v", err)
	}
	return dir
}

// TestGoldenCompiles type-checks, builds, vets (the kind e2e suite too) and
// gofmt-checks every golden tree, as a user would right after init, checks
// that go.mod and go.sum are tidy, and parses every YAML file.
func TestGoldenCompiles(t *testing.T) {
	for _, name := range testutil.GoldenNames(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(testutil.GoldenRoot, name)
			if err := typecheck.Module(context.Background(), dir); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}, {"vet", "-tags", "e2e", "./..."}, {"mod", "tidy", "-diff"}} {
				cmd := exec.Command("go", args...)
				// Tidiness needs the test dependencies of every dependency,
				// which only tidy itself downloads on a cold machine.
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("go %v: %v\n%s", args, err, out)
				}
			}
			files, err := testutil.ReadTree(dir)
			if err != nil {
				t.Fatal(err)
			}
			for path, content := range files {
				// A chart's templates are Go templates, YAML only once rendered.
				_, inChart := files[pathpkg.Join(pathpkg.Dir(pathpkg.Dir(path)), "Chart.yaml")]
				if strings.HasSuffix(path, ".yaml") && (!inChart || pathpkg.Base(pathpkg.Dir(path)) != "templates") {
					var v any
					if err := yaml.Unmarshal(content, &v); err != nil {
						t.Errorf("%s is not valid YAML: %v", path, err)
					}
				}
			}
			cmd := exec.Command("gofmt", "-l", ".")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Fatalf("gofmt -l: %v\n%s", err, out)
			}
		})
	}
}

// TestDeterministic generates the same project twice and expects identical trees.
func TestDeterministic(t *testing.T) {
	a, err := testutil.ReadTree(generate(t, threeKinds))
	if err != nil {
		t.Fatal(err)
	}
	b, err := testutil.ReadTree(generate(t, threeKinds))
	if err != nil {
		t.Fatal(err)
	}
	if diff := testutil.DiffTrees(a, b); diff != "" {
		t.Fatalf("two runs differ:\n%s", diff)
	}
}
