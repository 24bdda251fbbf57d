package upgrade_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/create"
	"github.com/open-control-plane/spgen/internal/project"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/upgrade"
)

// TestUpgradeFromGeneration5 moves a provider with two kinds and a workload
// cluster from objects labelled only with the provider and a hash of the
// request's name (which two kinds for one managed control plane shared) to
// objects that record their owner: the user's code survives, the reconcilers
// name their owner and re-check the ignore annotation, the new samples test
// arrives, and the result builds and vets.
func TestUpgradeFromGeneration5(t *testing.T) {
	gen5, err := project.LookupGeneration("5")
	if err != nil {
		t.Fatal(err)
	}
	p := veleroProject()
	p.Options.WorkloadCluster = true
	p.Kinds = append(p.Kinds, spec.Kind{Kind: "Schedule", Version: spec.DefaultVersion})
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if _, err := create.Run(context.Background(), p, create.Options{Dir: dir, SkipVerify: true, SpgenVersion: "devel", Generation: gen5}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(read(t, dir, "internal/managed/managed.go"), "OwnerAnnotation") {
		t.Fatal("generation 5 already records owners")
	}
	replace(t, dir, controllerFile, "// veleroInstance is a short stable ID", "// userHelper is the user's own code.\nfunc userHelper() string { return \"mine\" }\n\n// veleroInstance is a short stable ID")
	replace(t, dir, "internal/controller/schedule_controller.go", "	ServicePermissions []rbacv1.PolicyRule\n}", "	ServicePermissions []rbacv1.PolicyRule\n	// Retries is the user's field.\n	Retries int\n}")

	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Conflicts(); len(c) > 0 {
		t.Fatalf("conflicts: %v", c)
	}
	for path, want := range map[string]string{
		controllerFile: upgrade.Merged,
		"internal/controller/schedule_controller.go": upgrade.Merged,
		"internal/controller/samples_test.go":        upgrade.Created,
	} {
		if got := action(res, path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	for path, wants := range map[string][]string{
		controllerFile: {"func userHelper() string", "r.veleroOwner(obj)", "set.Guard(notIgnored("},
		"internal/controller/schedule_controller.go": {"// Retries is the user's field.", "r.scheduleOwner(obj)"},
		"internal/managed/managed.go":                {"OwnerAnnotation", "func (s *Set) release("},
		"internal/wiring/zz_generated.wiring.go":     {"type sharedAccess struct"},
	} {
		c := read(t, dir, path)
		for _, want := range wants {
			if !strings.Contains(c, want) {
				t.Errorf("upgraded %s lacks %q", path, want)
			}
		}
	}
	goBuildVet(t, dir)
}
