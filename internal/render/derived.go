package render

import (
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/open-control-plane/spgen/internal/spec"
)

// The names below are what the templates make of a user's input; each
// must be valid Kubernetes for every input spec accepts, so they are
// checked with it (Validate), before anything is rendered.

// instanceExample stands for the instance ID the reconcilers append to a
// kind's workload namespace (instance in lifecycle.go: 12 hex characters).
const instanceExample = "0123456789ab"

// testNamespaceSuffix is the longest suffix the controller tests' harness
// makes a namespace unique with.
const testNamespaceSuffix = "-99999-9999"

// kindNames are the names the templates derive from the kind of d.
func kindNames(d Data) []spec.DerivedName {
	return []spec.DerivedName{
		{What: "workload namespace", Name: d.KindLower + "-" + instanceExample, Limit: validation.DNS1123LabelMaxLength, Check: spec.Label},
		{What: "example domain resource name", Name: d.DomainPlural, Limit: validation.DNS1123LabelMaxLength, Check: spec.Label},
		{What: "test namespace", Name: d.KindLower + "-" + d.Version + testNamespaceSuffix, Limit: validation.DNS1123LabelMaxLength, Check: spec.Label},
	}
}

// providerNames are the names the templates derive from the provider name:
// the leader election lease of main.go. The names of its Cluster- and
// AccessRequests need no check: openMCP shortens them with a hash when
// they are too long.
func providerNames(p *spec.Project) []spec.DerivedName {
	return []spec.DerivedName{
		{What: "leader election lease", Name: p.ProviderName + "." + p.APIGroup(), Limit: validation.DNS1123SubdomainMaxLength, Check: spec.Subdomain},
	}
}

// checkDerivedNames reports the first derived name Kubernetes would refuse.
func checkDerivedNames(p *spec.Project, g Generation) error {
	if err := spec.CheckDerived(p.ProviderName, providerNames(p), "--provider-name", -1); err != nil {
		return err
	}
	for i, k := range p.Kinds {
		if err := spec.CheckDerived(k.Kind, kindNames(NewData(p, k, g)), "--kind", i); err != nil {
			return err
		}
	}
	return nil
}
