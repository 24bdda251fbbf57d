package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil/envtestbin"
)

// TestMissingRuleReportedWhole: a provider that lacks the rule for an
// object its managed set applies is told, in one run of its local
// end-to-end test, the whole rule the set needs, not the one verb RBAC
// refused first.
func TestMissingRuleReportedWhole(t *testing.T) {
	const marker = "// +spgen:rbac:cluster=mcp,groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete\n"
	expectLocalReport(t, newProject(t), marker,
		"the provider made requests its access does not allow:",
		"may not get deployments.apps in namespace velero-",
		"; the provider says it needs\n",
		"\t// +spgen:rbac:cluster=mcp,groups=\"apps\",resources=deployments,verbs=get;list;watch;create;update;patch;delete\n",
	)
}

// TestChartNeedsMarker: the local openMCP's Flux installs the Helm golden's
// test chart with the provider's own access, so a provider whose markers
// miss a kind the chart holds (its ClusterRole) fails its local end-to-end
// test with the whole rule to add.
func TestChartNeedsMarker(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "golden", "helm"))); err != nil {
		t.Fatal(err)
	}
	const marker = "// +spgen:rbac:cluster=mcp,groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete\n"
	expectLocalReport(t, dir, marker,
		"the provider made requests its access does not allow:",
		"clusterroles.rbac.authorization.k8s.io cluster-wide, installing a chart with the provider's access; the provider needs the rule\n",
		"\t// +spgen:rbac:cluster=mcp,groups=\"rbac.authorization.k8s.io\",resources=clusterroles,verbs=get;list;watch;create;update;patch;delete\n",
	)
}

// expectLocalReport removes marker from the Velero reconciler of the
// project in dir, runs spgen generate, and requires the project's local
// end-to-end test to fail with a report holding every line of wants.
func expectLocalReport(t *testing.T, dir, marker string, wants ...string) {
	t.Helper()
	edit(t, dir+"/internal/controller/velero_controller.go", marker, "")
	if code, _, stderr := run(t, "generate", "--dir", dir); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	out, err := goIn(dir, []string{"KUBEBUILDER_ASSETS=" + assets}, "test", "-count=1", "-run", "^TestVelero$", "./test/local/")
	if err == nil {
		t.Fatalf("the local end-to-end test passed without %s%s", marker, out)
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the local test's report lacks %q:\n%s", want, out)
		}
	}
}
