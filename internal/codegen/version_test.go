package codegen

import (
	"os"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestControllerToolsVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Require {
		if r.Mod.Path == "sigs.k8s.io/controller-tools" {
			if r.Mod.Version != ControllerToolsVersion {
				t.Fatalf("go.mod requires controller-tools %s, ControllerToolsVersion says %s", r.Mod.Version, ControllerToolsVersion)
			}
			return
		}
	}
	t.Fatal("go.mod does not require sigs.k8s.io/controller-tools")
}

func TestIsArtifact(t *testing.T) {
	for p, want := range map[string]bool{
		"api/v1alpha1/zz_generated.deepcopy.go":                                  true,
		"api/crds/manifests/velero.services.open-control-plane.io_veleroes.yaml": true,
		"api/crds/crds.go":                       true,
		"config/rbac/role.yaml":                  true,
		"internal/wiring/zz_generated.wiring.go": true,
		"go.sum":                                 false,
		"go.mod":                                 false,
		"spgen.yaml":                             false,
		"internal/controller/velero_controller.go": false,
		"api/v1alpha1/velero_types.go":             false,
	} {
		if got := IsArtifact(p); got != want {
			t.Errorf("IsArtifact(%q) = %v, want %v", p, got, want)
		}
	}
}
