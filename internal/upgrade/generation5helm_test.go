package upgrade_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/upgrade"
)

// TestUpgradeFromGeneration5Helm: the Helm golden as generation 5 wrote it
// (testdata/generation5-helm.tar.gz, committed as its user would have),
// with a second version added to the sample and a ProviderConfig manifest
// of the user's own, upgrades to spec.versions: the user's sample and
// manifest are carried over to the new shape (the template's other change
// to the sample shown, not merged), the upgrade says that ProviderConfigs on
// clusters need the same change, and the project passes its controller
// tests, which create the migrated sample on an API server with the new
// CRD.
func TestUpgradeFromGeneration5Helm(t *testing.T) {
	root := t.TempDir()
	untar := exec.Command("tar", "-xzf", filepath.Join("testdata", "generation5-helm.tar.gz"), "-C", root)
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dir := filepath.Join(root, "sp-velero")
	testutil.Git(t, dir, "init", "-q")
	testutil.Git(t, dir, "add", "-A")
	testutil.Git(t, dir, "commit", "-q", "-m", "spgen init")
	const sample = "config/samples/providerconfig.yaml"
	replace(t, dir, sample, `versions: ["6.5.0"]`, `versions: ["6.5.0", "6.6.0"]`)
	if err := os.MkdirAll(filepath.Join(dir, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "deploy/providerconfig-prod.yaml", `apiVersion: velero.services.open-control-plane.io/v1alpha1
kind: ProviderConfig
metadata:
  name: velero
spec:
  availableCharts:
    - name: velero
      versions: ["1.2.0"]
      chart: oci://registry.acme.example/charts/velero
  chartPullSecret:
    name: acme-charts
  imagePullSecrets:
    - name: acme-images
`)
	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := action(res, sample); got != upgrade.Migrated || len(res.Unmerged) != 1 || res.Unmerged[0].Path != sample {
		t.Errorf("%s: %q, want migrated with the template's change shown (%v)", sample, got, res.Unmerged)
	}
	if got := action(res, "deploy/providerconfig-prod.yaml"); got != upgrade.Migrated {
		t.Errorf("the user's manifest: %q, want migrated", got)
	}
	for _, want := range []string{"- version: 6.5.0\n", "- version: 6.6.0\n", "chartUrl: oci://ghcr.io/stefanprodan/charts/podinfo\n"} {
		if s := read(t, dir, sample); !strings.Contains(s, want) || strings.Contains(s, "availableCharts") {
			t.Errorf("%s lacks %q or keeps availableCharts:\n%s", sample, want, s)
		}
	}
	want := `spec:
  versions:
    - version: 1.2.0
      chartUrl: oci://registry.acme.example/charts/velero
      chartPullSecret: acme-charts
      values:
        imagePullSecrets:
          - name: acme-images
`
	if s := read(t, dir, "deploy/providerconfig-prod.yaml"); !strings.HasSuffix(s, want) {
		t.Errorf("the user's manifest:\n%s\nwant it to end in\n%s", s, want)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "spec.versions") || !strings.Contains(res.Warnings[0], "platform clusters") {
		t.Errorf("want one warning about the ProviderConfigs on clusters: %v", res.Warnings)
	}
	if types := read(t, dir, "api/v1alpha1/providerconfig_types.go"); !strings.Contains(types, "Versions []ChartVersion") {
		t.Errorf("the ProviderConfig's types were not moved to versions")
	}
	testProject(t, dir, "./internal/...")
}
