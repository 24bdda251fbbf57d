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
	service = service[:strings.Index(service, "\n}\n")]
	target := wiring[strings.Index(wiring, "var TargetPermissions"):]
	target = target[:strings.Index(target, "\n}\n")]
	rule := `APIGroups: []string{"apps"},
	Resources: []string{"deployments", "replicasets"},
	Verbs:     []string{"get", "list"},`
	if !strings.Contains(service, rule) {
		t.Errorf("ServicePermissions lack the marker's rule:\n%s", service)
	}
	if !strings.Contains(target, `"replicasets"`) || !strings.Contains(target, `"namespaces"`) {
		t.Errorf("TargetPermissions lack the service's or the provider's own rules:\n%s", target)
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
