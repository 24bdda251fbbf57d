package codegen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-tools/pkg/loader"
	"sigs.k8s.io/controller-tools/pkg/markers"
	"sigs.k8s.io/yaml"

	"github.com/open-control-plane/spgen/internal/spec"
)

// The clusters a +spgen:rbac marker can name: where openMCP grants the
// provider access with the rules the markers list.
const (
	ClusterOnboarding = "onboarding"
	ClusterMCP        = "mcp"
	ClusterWorkload   = "workload"
)

var clusterNames = []string{ClusterOnboarding, ClusterMCP, ClusterWorkload}

// clusterRule is +spgen:rbac: a +kubebuilder:rbac rule for one cluster.
type clusterRule struct {
	Cluster       string
	Groups        []string `marker:",optional"`
	Resources     []string `marker:",optional"`
	ResourceNames []string `marker:",optional"`
	Verbs         []string
}

var clusterRuleDefinition = markers.Must(markers.MakeDefinition("spgen:rbac", markers.DescribesPackage, clusterRule{}))

// markedRules are the rules of the spgen markers of the controller package.
type markedRules struct {
	service  []rbacv1.PolicyRule
	clusters map[string][]rbacv1.PolicyRule
}

// clusterRules collects the +spgen:rbac markers of root by cluster.
func clusterRules(col *markers.Collector, root *loader.Package) (map[string][]rbacv1.PolicyRule, error) {
	values, err := markers.PackageMarkers(col, root)
	if err != nil {
		return nil, err
	}
	out := map[string][]rbacv1.PolicyRule{}
	for _, v := range values[clusterRuleDefinition.Name] {
		r := v.(clusterRule)
		if !slices.Contains(clusterNames, r.Cluster) {
			return nil, fmt.Errorf("+spgen:rbac:cluster=%s: the cluster must be one of %s", r.Cluster, strings.Join(clusterNames, ", "))
		}
		groups := slices.Clone(r.Groups)
		for i, g := range groups {
			if g == "core" {
				groups[i] = ""
			}
		}
		out[r.Cluster] = append(out[r.Cluster], rbacv1.PolicyRule{APIGroups: groups, Resources: r.Resources, ResourceNames: r.ResourceNames, Verbs: r.Verbs})
	}
	return out, nil
}

// Permissions are what the provider asks openMCP for on each cluster it
// gets access to, and what it hands on to a workload cluster's workload.
type Permissions struct {
	Onboarding []rbacv1.PolicyRule
	MCP        []rbacv1.PolicyRule
	// Workload is empty for a provider without a workload cluster.
	Workload []rbacv1.PolicyRule
	Service  []rbacv1.PolicyRule
}

// clusterPermissions puts the marked rules on their clusters. Rules of
// +kubebuilder:rbac markers (projects written before per-cluster markers)
// hold on every target cluster. A cluster the provider gets access to
// without a single rule is an error: openMCP would grant an empty role and
// every request there would be forbidden.
func clusterPermissions(p *spec.Project, shared []rbacv1.PolicyRule, m markedRules) (Permissions, error) {
	const src = "internal/controller: "
	if len(m.service) > 0 && !p.Options.WorkloadCluster {
		return Permissions{}, &Error{Msg: src + "+spgen:service:rbac markers say what a workload in a workload cluster may do on the managed control plane, but this provider runs its workload in the managed control plane (no workload cluster); remove them"}
	}
	if len(m.clusters[ClusterWorkload]) > 0 && !p.Options.WorkloadCluster {
		return Permissions{}, &Error{Msg: src + "+spgen:rbac:cluster=workload markers ask for permissions on a workload cluster, but this provider has none (its workload runs in the managed control plane); use cluster=mcp"}
	}
	perms := Permissions{
		Onboarding: mergeRules(append(onboardingRules(p), m.clusters[ClusterOnboarding]...)),
		// Kubernetes lets the provider grant the service only what it holds itself.
		MCP:     mergeRules(slices.Concat(shared, m.clusters[ClusterMCP], m.service)),
		Service: m.service,
	}
	if len(perms.MCP) == 0 {
		return Permissions{}, &Error{Msg: src + "no permissions for the managed control plane: the provider gets access to it, so mark what the reconcilers do there, e.g.\n\t// +spgen:rbac:cluster=mcp,groups=\"\",resources=namespaces,verbs=get;list;watch;create;update;patch;delete"}
	}
	if p.Options.WorkloadCluster {
		perms.Workload = mergeRules(slices.Concat(shared, m.clusters[ClusterWorkload]))
		if len(perms.Workload) == 0 {
			return Permissions{}, &Error{Msg: src + "no permissions for the workload cluster: the provider gets access to it, so mark what the reconcilers do there, e.g.\n\t// +spgen:rbac:cluster=workload,groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete"}
		}
	}
	return perms, nil
}

// onboardingRules are what every provider needs on the onboarding cluster:
// its own API kinds, and events to report on them.
func onboardingRules(p *spec.Project) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{
		APIGroups: []string{p.APIGroup()},
		Resources: onboardingResources(p),
		Verbs:     []string{"get", "list", "watch", "update", "patch"},
	}, {
		APIGroups: []string{"events.k8s.io"},
		Resources: []string{"events"},
		Verbs:     []string{"create", "patch"},
	}}
}

// rolesYAML writes one ClusterRole per cluster, in the layout
// controller-tools uses, for review and for clusters set up by hand.
func rolesYAML(perms Permissions) ([]byte, error) {
	var out bytes.Buffer
	for _, c := range []struct {
		name  string
		rules []rbacv1.PolicyRule
	}{{ClusterOnboarding, perms.Onboarding}, {ClusterMCP, perms.MCP}, {ClusterWorkload, perms.Workload}} {
		if len(c.rules) == 0 {
			continue
		}
		b, err := yaml.Marshal(map[string]any{
			"apiVersion": rbacv1.SchemeGroupVersion.String(),
			"kind":       "ClusterRole",
			"metadata":   map[string]string{"name": c.name + "-cluster-role"},
			"rules":      c.rules,
		})
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", RoleFile, err)
		}
		if out.Len() > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return yamlHeader(out.Bytes()), nil
}

// usesTargetPermissions reports whether a main package under cmd/ still
// hands wiring.TargetPermissions to both target clusters, as mains written
// before per-cluster permissions do; the wiring keeps that name for them.
func usesTargetPermissions(dir string, overlay map[string][]byte) bool {
	found := false
	_ = filepath.WalkDir(filepath.Join(dir, "cmd"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || found {
			return nil
		}
		src, ok := overlay[p]
		if !ok {
			if src, err = os.ReadFile(p); err != nil {
				return nil
			}
		}
		found = bytes.Contains(src, []byte("wiring.TargetPermissions"))
		return nil
	})
	return found
}
