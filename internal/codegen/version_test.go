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
