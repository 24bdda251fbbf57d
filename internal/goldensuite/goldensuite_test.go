package goldensuite_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/testutil/envtestbin"
)

// TestGoldenEnvtest runs every golden project's own tests against a real
// kube-apiserver and etcd (envtest): the lifecycle a user gets on day one.
func TestGoldenEnvtest(t *testing.T) {
	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	for _, name := range testutil.GoldenNames(t) {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("go", "test", "-count=1", "./...")
			cmd.Dir = filepath.Join(testutil.GoldenRoot, name)
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
	files, err := testutil.ReadTree(filepath.Join(testutil.GoldenRoot, "helm"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const fixture = "test/e2e/platform/providerconfig.yaml"
	files[fixture] = bytes.Replace(files[fixture], []byte("values:"), []byte("valuez:"), 1)
	if err := testutil.WriteTree(dir, files); err != nil {
		t.Fatal(err)
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
