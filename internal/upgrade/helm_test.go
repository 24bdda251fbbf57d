package upgrade_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/upgrade"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// TestUpgradeHelmProject: an upgrade renders a Helm project as a Helm
// project, before and after: the user's changes to the chart's values and
// the Flux helpers survive, nothing else changes but the spgen pin, and the
// result is what a fresh init writes plus those changes.
func TestUpgradeHelmProject(t *testing.T) {
	p := veleroProject()
	p.Options = spec.Options{WorkloadCluster: true, Deploy: spec.DeployHelm}
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if _, err := initialize.Run(context.Background(), p, initialize.Options{Dir: dir, SkipVerify: true, SpgenVersion: "v0.3.0"}); err != nil {
		t.Fatal(err)
	}
	const valuesLine = "	if err := trustCABundleValues(values, w.CABundle); err != nil {"
	const valuesEdit = "	values[\"replicaCount\"] = 2\n" + valuesLine
	replace(t, dir, "internal/controller/velero_controller.go", valuesLine, valuesEdit)
	const retries, retriesEdit = "		Retries:            3,", "		Retries:            5,"
	replace(t, dir, "internal/controller/helm.go", retries, retriesEdit)

	w, err := workspace.Open(dir, workspace.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := upgrade.Run(context.Background(), w, upgrade.Options{SpgenVersion: "v0.4.0", SkipVerify: true})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Conflicts(); len(c) > 0 {
		t.Fatalf("conflicts: %v", c)
	}
	for _, f := range res.Files {
		if f.Action != upgrade.Kept && f.Path != "Taskfile.yaml" && !strings.HasPrefix(f.Path, ".github/") && f.Path != "README.md" {
			t.Errorf("%s: %s, want it kept: only the spgen pin moves", f.Path, f.Action)
		}
	}

	fresh := filepath.Join(t.TempDir(), "sp-velero")
	if _, err := initialize.Run(context.Background(), p, initialize.Options{Dir: fresh, SkipVerify: true, SpgenVersion: "v0.4.0"}); err != nil {
		t.Fatal(err)
	}
	replace(t, fresh, "internal/controller/velero_controller.go", valuesLine, valuesEdit)
	replace(t, fresh, "internal/controller/helm.go", retries, retriesEdit)
	got, err := testutil.ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := testutil.ReadTree(fresh)
	if err != nil {
		t.Fatal(err)
	}
	delete(got, ".spgen/lock.yaml")
	delete(want, ".spgen/lock.yaml")
	if diff := testutil.DiffTrees(want, got); diff != "" {
		t.Errorf("upgraded Helm project differs from a fresh one with the same edits:\n%s", diff)
	}
}
