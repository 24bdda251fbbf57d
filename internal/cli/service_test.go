package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// serviceMarkers is a user's file declaring what the workload may do on
// the managed control plane.
const serviceMarkers = "package controller\n\n// +spgen:service:rbac:groups=apps,resources=deployments;replicasets,verbs=get;list\n"

// TestServicePermissions: +spgen:service:rbac markers become the workload's
// permissions on the managed control plane, and the provider is granted
// them too (Kubernetes lets it hand out only what it holds).
func TestServicePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if code, _, stderr := run(t, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "-w", "--dir", dir); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, stderr)
	}
	write(t, dir, "internal/controller/service_rbac.go", serviceMarkers)
	if code, _, stderr := run(t, "generate", "--dir", dir); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	wiring := readFile(t, filepath.Join(dir, "internal/wiring/zz_generated.wiring.go"))
	service := wiring[strings.Index(wiring, "var ServicePermissions"):]
	service = service[:strings.Index(service, "}}\n")]
	target := wiring[strings.Index(wiring, "var MCPPermissions"):]
	target = target[:strings.Index(target, "}}\n")]
	workload := wiring[strings.Index(wiring, "var WorkloadPermissions"):]
	workload = workload[:strings.Index(workload, "}}\n")]
	rule := `APIGroups: []string{"apps"},
	Resources: []string{"deployments", "replicasets"},
	Verbs:     []string{"get", "list"},`
	if !strings.Contains(service, rule) {
		t.Errorf("ServicePermissions lack the marker's rule:\n%s", service)
	}
	if !strings.Contains(target, `"replicasets"`) || !strings.Contains(target, `"namespaces"`) {
		t.Errorf("MCPPermissions lack the service's or the provider's own rules:\n%s", target)
	}
	if strings.Contains(workload, `"replicasets"`) {
		t.Errorf("the service's rules are granted on the workload cluster too:\n%s", workload)
	}
	if role := readFile(t, filepath.Join(dir, "config/rbac/role.yaml")); !strings.Contains(role, "- replicasets") {
		t.Errorf("the provider's role lacks the service's rules:\n%s", role)
	}
}

// TestServicePermissionsNeedWorkloadCluster: without a workload cluster the
// workload runs in the managed control plane, so the markers are refused
// instead of silently ignored.
func TestServicePermissionsNeedWorkloadCluster(t *testing.T) {
	dir := newProject(t)
	write(t, dir, "internal/controller/service_rbac.go", serviceMarkers)
	before := state(t, dir)
	code, _, stderr := run(t, "generate", "--dir", dir)
	if code == 0 || !strings.Contains(stderr, "+spgen:service:rbac") || !strings.Contains(stderr, "workload cluster") {
		t.Fatalf("generate: exit %d, want a failure explaining the markers\n%s", code, stderr)
	}
	if state(t, dir) != before {
		t.Errorf("a failed generate changed the project")
	}
}

// TestClusterPermissions: +spgen:rbac markers say which cluster a rule is
// for; a cluster the provider gets access to without any rule, or an
// unknown cluster, is refused and nothing is written; a main package that
// still hands wiring.TargetPermissions to every cluster keeps building.
func TestClusterPermissions(t *testing.T) {
	dir := newProject(t)
	sources := map[string]string{}
	for _, file := range []string{"internal/controller/velero_controller.go", "internal/controller/lifecycle.go"} {
		sources[file] = readFile(t, filepath.Join(dir, file))
		var kept []string
		for _, line := range strings.Split(sources[file], "\n") {
			if !strings.HasPrefix(line, "// +spgen:rbac:cluster=mcp") {
				kept = append(kept, line)
			}
		}
		write(t, dir, file, strings.Join(kept, "\n"))
	}
	before := state(t, dir)
	code, _, stderr := run(t, "generate", "--dir", dir)
	if code != 1 || !strings.Contains(stderr, "no permissions for the managed control plane") || !strings.Contains(stderr, "+spgen:rbac:cluster=mcp") {
		t.Fatalf("generate without MCP rules: exit %d, want 1 and an explanation\n%s", code, stderr)
	}
	if state(t, dir) != before {
		t.Errorf("a failed generate changed the project")
	}

	for file, src := range sources {
		write(t, dir, file, src)
	}
	write(t, dir, "internal/controller/extra_rbac.go", "package controller\n\n// +spgen:rbac:cluster=platform,groups=\"\",resources=secrets,verbs=get\n")
	if code, _, stderr := run(t, "generate", "--dir", dir); code != 1 || !strings.Contains(stderr, "cluster=platform") || !strings.Contains(stderr, "onboarding, mcp, workload") {
		t.Fatalf("generate with an unknown cluster: exit %d\n%s", code, stderr)
	}

	write(t, dir, "internal/controller/extra_rbac.go", "package controller\n\n// +spgen:rbac:cluster=onboarding,groups=\"\",resources=configmaps,verbs=get\n")
	mainFile := filepath.Join(dir, "cmd/sp-velero/main.go")
	write(t, dir, "cmd/sp-velero/main.go", strings.Replace(readFile(t, mainFile), "wiring.MCPPermissions", "wiring.TargetPermissions", 1))
	if code, _, stderr := run(t, "generate", "--dir", dir); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	wiring := readFile(t, filepath.Join(dir, "internal/wiring/zz_generated.wiring.go"))
	if !strings.Contains(wiring, "var TargetPermissions") {
		t.Errorf("the wiring dropped TargetPermissions, which main.go uses")
	}
	onboarding := wiring[strings.Index(wiring, "var OnboardingPermissions"):]
	if onboarding = onboarding[:strings.Index(onboarding, "}}\n")]; !strings.Contains(onboarding, `"configmaps"`) {
		t.Errorf("OnboardingPermissions lack the onboarding marker's rule:\n%s", onboarding)
	}
}
