package create_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	pathpkg "path"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/open-control-plane/spgen/internal/addapi"
	"github.com/open-control-plane/spgen/internal/create"
	"github.com/open-control-plane/spgen/internal/envtestbin"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/verify"
	"github.com/open-control-plane/spgen/internal/workspace"
)

const goldenRoot = "../../golden"

// goldenCase is one option combination with an expected tree under golden/.
type goldenCase struct {
	name string
	opts spec.Options
	add  []spec.Kind // added with add-api after init, in order
}

var goldenCases = []goldenCase{
	{"default", spec.Options{}, nil},
	{"workload", spec.Options{WorkloadCluster: true}, nil},
	{"secret-watcher", spec.Options{SecretWatcher: true}, nil},
	{"sample", spec.Options{Sample: true}, nil},
	{"all", spec.Options{WorkloadCluster: true, SecretWatcher: true, Sample: true}, nil},
	{"helm", spec.Options{Deploy: spec.DeployHelm}, nil},
	// A Helm chart installed into a workload cluster, and a second kind
	// that add-api scaffolds for Helm too.
	{"helm-workload", spec.Options{WorkloadCluster: true, Deploy: spec.DeployHelm}, []spec.Kind{
		{Kind: "Schedule", Version: "v1alpha1"},
	}},
	// Three kinds, two versions of one: init, then two add-api runs.
	{"three-kinds", spec.Options{WorkloadCluster: true, SecretWatcher: true, Sample: true}, []spec.Kind{
		{Kind: "Schedule", Version: "v1alpha1"},
		{Kind: "Velero", Version: "v1beta1"},
	}},
}

func goldenProject(opts spec.Options) *spec.Project {
	return &spec.Project{
		Module:       "example.com/acme/sp-velero",
		Group:        "velero",
		ProviderName: "velero",
		Options:      opts,
		Kinds:        []spec.Kind{{Kind: "Velero", Version: spec.DefaultVersion}},
	}
}

// generate writes the project of c into a fresh directory without type
// checking; the golden tests check types, build and vet separately.
func generate(t *testing.T, c goldenCase) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sp-velero")
	_, err := create.Run(context.Background(), goldenProject(c.opts), create.Options{Dir: dir, SkipVerify: true, SpgenVersion: "devel"})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	for _, k := range c.add {
		w, err := workspace.Open(dir, workspace.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = addapi.Run(context.Background(), w, k, addapi.Options{SkipVerify: true})
		w.Close()
		if err != nil {
			t.Fatalf("add-api %s %s: %v", k.Kind, k.Version, err)
		}
	}
	return dir
}

// TestGolden compares every generated tree, whole, with its golden copy.
// Run `go test ./internal/create -update` to accept a change, then review
// the diff of golden/ like any other change.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := testutil.ReadTree(generate(t, c))
			if err != nil {
				t.Fatal(err)
			}
			goldenDir := filepath.Join(goldenRoot, c.name)
			if *testutil.Update {
				if err := os.RemoveAll(goldenDir); err != nil {
					t.Fatal(err)
				}
				for p, content := range got {
					full := filepath.Join(goldenDir, filepath.FromSlash(p))
					if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(full, content, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			want, err := testutil.ReadTree(goldenDir)
			if err != nil {
				t.Fatalf("reading golden tree (run with -update to create it): %v", err)
			}
			if diff := testutil.DiffTrees(want, got); diff != "" {
				t.Errorf("generated tree differs from %s (run with -update and review the diff):\n%s", goldenDir, diff)
			}
		})
	}
}

// TestGoldenCompiles type-checks, builds, vets (the kind e2e suite too) and
// gofmt-checks every golden tree, as a user would right after init, checks
// that go.mod and go.sum are tidy, and parses every YAML file.
func TestGoldenCompiles(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(goldenRoot, c.name)
			if err := verify.Module(context.Background(), dir); err != nil {
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
	c := goldenCases[len(goldenCases)-1]
	a, err := testutil.ReadTree(generate(t, c))
	if err != nil {
		t.Fatal(err)
	}
	b, err := testutil.ReadTree(generate(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if diff := testutil.DiffTrees(a, b); diff != "" {
		t.Fatalf("two runs differ:\n%s", diff)
	}
}

// TestGoldenEnvtest runs every golden project's own tests against a real
// kube-apiserver and etcd (envtest): the lifecycle a user gets on day one.
func TestGoldenEnvtest(t *testing.T) {
	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("go", "test", "-count=1", "./...")
			cmd.Dir = filepath.Join(goldenRoot, c.name)
			cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("generated tests failed: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}

// TestGoldenSamplesStrict: the generated TestSamples fails when a shipped
// fixture has a field the API does not have, naming the file and the field.
func TestGoldenSamplesStrict(t *testing.T) {
	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	files, err := testutil.ReadTree(filepath.Join(goldenRoot, "helm"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const fixture = "test/e2e/platform/providerconfig.yaml"
	files[fixture] = bytes.Replace(files[fixture], []byte("values:"), []byte("valuez:"), 1)
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestSamples$", "./internal/controller/")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("TestSamples passed with an unknown field in %s:\n%s", fixture, out)
	}
	if !strings.Contains(string(out), fixture) || !strings.Contains(string(out), `unknown field "spec.versions[0].valuez"`) {
		t.Errorf("TestSamples does not name the file and the field:\n%s", out)
	}
}
