package codegen

import (
	"context"
	"path"
	"strings"

	"github.com/open-control-plane/spgen/internal/spec"
)

// IsArtifact reports whether path is where a generator writes: deepcopy
// code, CRD manifests and their embed package, the role, the wiring.
func IsArtifact(p string) bool {
	return strings.HasPrefix(path.Base(p), "zz_generated.") ||
		strings.HasPrefix(p, CRDDir+"/") || p == path.Dir(CRDDir)+"/crds.go" ||
		p == RoleFile || p == WiringFile
}

// Generate produces every generated artifact for the project whose sources
// are on disk in dir. It writes nothing: the caller gets the artifacts by
// relative path and decides what to commit.
//
// overlay holds files (by relative path) that the generators must see with
// the given contents instead of what is on disk, such as packages rendered
// but not yet written.
func Generate(ctx context.Context, dir string, p *spec.Project, overlay map[string][]byte) (map[string][]byte, error) {
	out, service, err := controllerTools(ctx, dir, p.Module, p.Versions(), overlay)
	if err != nil {
		return nil, err
	}
	rules, err := rulesFromRole(out[RoleFile])
	if err != nil {
		return nil, err
	}
	if len(service) > 0 {
		if !p.Options.WorkloadCluster {
			return nil, &Error{Msg: "internal/controller: +spgen:service:rbac markers say what a workload in a workload cluster may do on the managed control plane, but this provider runs its workload in the managed control plane (no workload cluster); remove them"}
		}
		// Kubernetes lets the provider grant only what it holds itself.
		rules = mergeRules(append(rules, service...))
		if out[RoleFile], err = roleYAML(rules); err != nil {
			return nil, err
		}
	}
	wiring, err := Wiring(p, rules, service)
	if err != nil {
		return nil, err
	}
	out[WiringFile] = wiring
	return out, nil
}
