// Package artifacts computes the generated files of a project, the one
// place that decides which files spgen generates and what they hold: the
// files the templates render as generated, and what the generators
// (deepcopy, CRDs, permissions, wiring) derive from the sources. Every
// command that writes generated files (init, add-api, generate, upgrade)
// takes them from here.
package artifacts

import (
	"context"

	"github.com/open-control-plane/spgen/internal/codegen"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
)

// Compute renders p with the current templates and returns every generated
// file of it, from the sources in dir, by project-relative path.
func Compute(ctx context.Context, dir string, p *spec.Project) (map[string][]byte, error) {
	tree, err := render.Render(p)
	if err != nil {
		return nil, err
	}
	return Of(ctx, dir, p, tree)
}

// Of returns every generated file of p: those of the rendered tree and
// those the generators derive from the sources in dir. The generators see
// the rendered packages (such as internal/provider) as they will be, even
// before they are written.
func Of(ctx context.Context, dir string, p *spec.Project, tree *scaffold.Tree) (map[string][]byte, error) {
	rendered := map[string][]byte{}
	for _, path := range tree.Paths() {
		if f, _ := tree.Get(path); f.Owner == scaffold.Generated {
			rendered[path] = f.Content
		}
	}
	out, err := codegen.Generate(ctx, dir, p, rendered)
	if err != nil {
		return nil, err
	}
	for path, content := range rendered {
		out[path] = content
	}
	return out, nil
}

// Stale lists generated files the lock records that are no longer produced.
// Only paths where generators write count, whatever a lock file says.
func Stale(lock *scaffold.Manifest, arts map[string][]byte) []string {
	var out []string
	for _, e := range lock.Files {
		if _, ok := arts[e.Path]; !ok && e.Owner == scaffold.Generated && codegen.IsArtifact(e.Path) {
			out = append(out, e.Path)
		}
	}
	return out
}

// Record returns lock updated for the new artifacts, without the stale
// ones.
func Record(lock *scaffold.Manifest, arts map[string][]byte, stale []string) *scaffold.Manifest {
	l := lock.Clone()
	for path, content := range arts {
		l.Set(path, scaffold.Generated, content)
	}
	for _, path := range stale {
		l.Delete(path)
	}
	return l
}
