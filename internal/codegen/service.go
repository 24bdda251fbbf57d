package codegen

import (
	"cmp"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-tools/pkg/loader"
	"sigs.k8s.io/controller-tools/pkg/markers"
	"sigs.k8s.io/controller-tools/pkg/rbac"
)

// serviceRuleDefinition is +spgen:service:rbac, with the arguments of
// +kubebuilder:rbac: what the domain service itself may do on the managed
// control plane when it runs in a workload cluster.
var serviceRuleDefinition = markers.Must(markers.MakeDefinition("spgen:service:rbac", markers.DescribesPackage, rbac.Rule{}))

// serviceRules collects the +spgen:service:rbac markers of root.
func serviceRules(col *markers.Collector, root *loader.Package) ([]rbacv1.PolicyRule, error) {
	values, err := markers.PackageMarkers(col, root)
	if err != nil {
		return nil, err
	}
	var rules []rbacv1.PolicyRule
	for _, v := range values[serviceRuleDefinition.Name] {
		r := v.(rbac.Rule)
		for i, g := range r.Groups {
			if g == "core" {
				r.Groups[i] = ""
			}
		}
		rules = append(rules, r.ToRule())
	}
	return mergeRules(rules), nil
}

// mergeRules unions rules per API group, resource and resource names, then
// joins resources that end up with the same verbs, in a stable order.
func mergeRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type target struct{ group, resource, names, url string }
	verbs := map[target][]string{}
	for _, r := range rules {
		names := strings.Join(slices.Sorted(slices.Values(r.ResourceNames)), ",")
		add := func(t target) { verbs[t] = append(verbs[t], r.Verbs...) }
		for _, u := range r.NonResourceURLs {
			add(target{url: u})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				add(target{group: g, resource: res, names: names})
			}
		}
	}
	type key struct{ group, names, url, verbs string }
	merged := map[key]*rbacv1.PolicyRule{}
	var order []key
	for t, vs := range verbs {
		vs = slices.Compact(slices.Sorted(slices.Values(vs)))
		if slices.Contains(vs, "*") {
			vs = []string{"*"}
		}
		k := key{t.group, t.names, t.url, strings.Join(vs, ",")}
		r, ok := merged[k]
		if !ok {
			r = &rbacv1.PolicyRule{Verbs: vs}
			switch {
			case t.url != "":
				r.NonResourceURLs = []string{t.url}
			default:
				r.APIGroups = []string{t.group}
				if t.names != "" {
					r.ResourceNames = strings.Split(t.names, ",")
				}
			}
			merged[k] = r
			order = append(order, k)
		}
		if t.url == "" {
			r.Resources = append(r.Resources, t.resource)
		}
	}
	out := make([]rbacv1.PolicyRule, 0, len(order))
	for _, k := range order {
		r := merged[k]
		slices.Sort(r.Resources)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b rbacv1.PolicyRule) int {
		return cmp.Or(
			cmp.Compare(strings.Join(a.NonResourceURLs, ","), strings.Join(b.NonResourceURLs, ",")),
			cmp.Compare(strings.Join(a.APIGroups, ","), strings.Join(b.APIGroups, ",")),
			cmp.Compare(strings.Join(a.Resources, ","), strings.Join(b.Resources, ",")),
			cmp.Compare(strings.Join(a.Verbs, ","), strings.Join(b.Verbs, ",")),
		)
	})
	return out
}
