package upgrade_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/create"
	"github.com/open-control-plane/spgen/internal/project"
	"github.com/open-control-plane/spgen/internal/upgrade"
)

// TestUpgradeFromGeneration3 moves a provider with a workload cluster from
// the reconciler that created objects by hand to the managed-objects one:
// the user's helper, ProviderConfig field and reconciler field survive, the
// CA bundle reference and the workload's MCP credentials arrive, and the
// result builds and vets.
func TestUpgradeFromGeneration3(t *testing.T) {
	gen3, err := project.LookupGeneration("3")
	if err != nil {
		t.Fatal(err)
	}
	p := veleroProject()
	p.Options.WorkloadCluster = true
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if _, err := create.Run(context.Background(), p, create.Options{Dir: dir, SkipVerify: true, SpgenVersion: "devel", Generation: gen3}); err != nil {
		t.Fatal(err)
	}
	replace(t, dir, controllerFile, "// veleroInstance is a short stable ID", "// userHelper is the user's own code.\nfunc userHelper() string { return \"mine\" }\n\n// veleroInstance is a short stable ID")
	replace(t, dir, controllerFile, "type VeleroReconciler struct {\n", "type VeleroReconciler struct {\n	// Retries is the user's field.\n	Retries int\n")
	pcFile := "api/v1alpha1/providerconfig_types.go"
	replace(t, dir, pcFile, "type ProviderConfigSpec struct {", "type ProviderConfigSpec struct {\n\t// Region is the user's field.\n\t// +optional\n\tRegion string `json:\"region,omitempty\"`\n")

	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{controllerFile: upgrade.Merged, pcFile: upgrade.Merged, "internal/managed/managed.go": upgrade.Created} {
		if got := action(res, path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	c := read(t, dir, controllerFile)
	for _, want := range []string{"func userHelper() string", "// Retries is the user's field.", "veleroObjects(", "addServiceAccess(", "+spgen:service:rbac"} {
		if !strings.Contains(c, want) {
			t.Errorf("upgraded reconciler lacks %q", want)
		}
	}
	pc := read(t, dir, pcFile)
	if !strings.Contains(pc, "Region string") || !strings.Contains(pc, "CABundleRef *corev1.ConfigMapKeySelector") {
		t.Errorf("upgraded ProviderConfig lost the user's field or lacks caBundleRef:\n%s", pc)
	}
	if !strings.Contains(read(t, dir, "internal/wiring/zz_generated.wiring.go"), "var ServicePermissions") {
		t.Error("the wiring does not hand the workload's MCP permissions to the reconcilers")
	}
	goBuildVet(t, dir)
}
