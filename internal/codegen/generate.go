package codegen

import (
	"context"
	"path"
	"path/filepath"
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
	if _, err := CheckMarkers(dir, p, overlay); err != nil {
		return nil, err
	}
	out, marked, err := controllerTools(ctx, dir, p.Module, p.Versions(), overlay)
	if err != nil {
		return nil, err
	}
	shared, err := rulesFromRole(out[RoleFile])
	if err != nil {
		return nil, err
	}
	perms, err := clusterPermissions(p, shared, marked)
	if err != nil {
		return nil, err
	}
	if out[RoleFile], err = rolesYAML(perms); err != nil {
		return nil, err
	}
	absOverlay := map[string][]byte{}
	for rel, content := range overlay {
		absOverlay[filepath.Join(dir, filepath.FromSlash(rel))] = content
	}
	wiring, err := Wiring(p, perms, usesTargetPermissions(dir, absOverlay))
	if err != nil {
		return nil, err
	}
	out[WiringFile] = wiring
	return out, nil
}
