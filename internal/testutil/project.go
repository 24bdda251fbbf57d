package testutil

import (
	"fmt"

	"github.com/open-control-plane/spgen/internal/spec"
)

// Kinds returns a project spec with n kinds (Velero, Kind2, ... Kindn), all
// options on, the way benchmarks and scale tests need them.
func Kinds(n int) *spec.Project {
	p := &spec.Project{
		Module:       "example.com/acme/sp-velero",
		Group:        "velero",
		ProviderName: "velero",
		Options:      spec.Options{WorkloadCluster: true, SecretWatcher: true, Sample: true},
		Kinds:        []spec.Kind{{Kind: "Velero", Version: spec.DefaultVersion}},
	}
	for i := 2; i <= n; i++ {
		p.Kinds = append(p.Kinds, spec.Kind{Kind: fmt.Sprintf("Kind%d", i), Version: spec.DefaultVersion})
	}
	return p
}
