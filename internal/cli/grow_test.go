package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil/envtestbin"
)

// TestGrowScenario is a provider's first week through the CLI only: init,
// two add-api runs (a second kind, a second version of the first), a types
// edit that changes deepcopy code and the CRD, generate. The result builds,
// vets, passes --check and passes its own tests against a real API server.
func TestGrowScenario(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sp-velero")
	steps := [][]string{
		{"init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", dir, "-w", "--sample"},
		{"add-api", "--kind", "Schedule", "--dir", dir},
		{"add-api", "--kind", "Velero", "--version", "v1beta1", "--dir", dir},
	}
	for _, args := range steps {
		if code, _, stderr := run(t, args...); code != 0 {
			t.Fatalf("spgen %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
	}
	edit(t, filepath.Join(dir, "api", "v1alpha1", "schedule_types.go"), "type ScheduleSpec struct {", `type ScheduleSpec struct {
	// Cron is when backups run, in cron syntax.
	// +kubebuilder:validation:MinLength=9
	// +optional
	Cron *string `+"`json:\"cron,omitempty\"`"+`

	// Include lists the namespaces to back up.
	// +listType=set
	// +optional
	Include []string `+"`json:\"include,omitempty\"`"+`
`)
	if code, _, _ := run(t, "generate", "--check", "--dir", dir); code != 1 {
		t.Fatalf("check after the edit: exit %d, want 1", code)
	}
	code, stdout, stderr := run(t, "generate", "--dir", dir)
	if code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"update  api/v1alpha1/zz_generated.deepcopy.go", "update  api/crds/manifests/velero.services.open-control-plane.io_schedules.yaml"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("generate did not report %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := run(t, "generate", "--check", "--dir", dir); code != 0 {
		t.Fatalf("check after generate: exit %d\n%s", code, stderr)
	}

	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}, {"test", "-count=1", "./internal/..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
