// Package generate brings every generated artifact of a project up to date
// with its sources (spgen generate): deepcopy code, CRDs and their embed
// package, permissions and the wiring. User-owned files are never touched.
package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/open-control-plane/spgen/internal/artifacts"
	"github.com/open-control-plane/spgen/internal/codegen"
	"github.com/open-control-plane/spgen/internal/gencache"
	"github.com/open-control-plane/spgen/internal/gocmd"
	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/typecheck"
	"github.com/open-control-plane/spgen/internal/warmup"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// cachedArtifacts is artifacts.Compute, answered from the cache when the sources
// are ones generation has seen before.
func cachedArtifacts(ctx context.Context, dir string, p *spec.Project) (map[string][]byte, error) {
	key, ok, err := artifactsKey(ctx, dir, p)
	if err != nil {
		return nil, err
	}
	if ok {
		if arts, hit := gencache.Load(key); hit {
			return arts, nil
		}
	}
	arts, err := artifacts.Compute(ctx, dir, p)
	if err == nil && ok {
		gencache.Store(key, arts)
	}
	return arts, err
}

func artifactsKey(ctx context.Context, dir string, p *spec.Project) (string, bool, error) {
	env, err := gocmd.GoEnv(ctx, dir)
	if err != nil {
		return "", false, err
	}
	specJSON, err := json.Marshal(p)
	if err != nil {
		return "", false, err
	}
	return gencache.Key(dir, gencache.Inputs{Toolchain: env.Fingerprint(), Spec: specJSON, Skip: codegen.IsArtifact, Files: []string{codegen.BoilerplateGo}})
}

// Options control one generate run.
type Options struct {
	Check      bool // report drift, write nothing
	DryRun     bool // print what would change, write nothing
	SkipVerify bool
	Out        io.Writer // diffs
	Progress   *progress.Reporter
}

// DriftError reports stale generated files (generate --check).
type DriftError struct{ Paths []string }

func (e *DriftError) Error() string {
	return fmt.Sprintf("%d generated file(s) out of date: %s\nrun spgen generate and commit the result", len(e.Paths), strings.Join(e.Paths, ", "))
}

// Run regenerates the project in w and returns what changed (or, with
// Check or DryRun, would change).
func Run(ctx context.Context, w *workspace.Workspace, o Options) ([]workspace.Change, error) {
	if err := render.RequireCurrent(w.Manifest.Templates); err != nil {
		return nil, err
	}
	if err := warmup.Ensure(ctx, w.Dir, o.Progress); err != nil {
		return nil, err
	}
	warnings, err := codegen.CheckMarkers(w.Dir, w.Project, nil)
	for _, warn := range warnings {
		o.Progress.Printf("spgen: warning: %s\n", warn)
	}
	if err != nil {
		return nil, err
	}
	done := o.Progress.Step("generating deepcopy, CRDs, permissions and wiring")
	arts, err := cachedArtifacts(ctx, w.Dir, w.Project)
	done(err)
	if err != nil {
		// Generators fail on types that do not compile; the compiler says why.
		if terr := typecheck.Packages(ctx, w.Dir, nil, apiPatterns(w.Project)...); terr != nil && ctx.Err() == nil {
			return nil, Explain(terr, w.Manifest)
		}
		return nil, err
	}
	stale, kept, err := dropEdited(w, artifacts.Stale(w.Manifest, arts))
	if err != nil {
		return nil, err
	}
	for _, path := range kept {
		o.Progress.Printf("spgen: kept %s: spgen no longer generates it, but it was edited since, so it is yours now (delete it if you do not need it)\n", path)
	}
	changes, err := w.Diff(arts, stale)
	if err != nil {
		return nil, err
	}
	if err := w.CheckWritable(changes); err != nil {
		return nil, err
	}
	if o.Check || o.DryRun {
		if err := workspace.WriteDiff(o.Out, changes); err != nil {
			return nil, err
		}
		if o.Check && len(changes) > 0 {
			paths := make([]string, len(changes))
			for i, c := range changes {
				paths[i] = c.Path
			}
			return changes, &DriftError{Paths: paths}
		}
		return changes, nil
	}
	if len(changes) > 0 && !o.SkipVerify {
		done := o.Progress.Step("type-checking the project with the new generated code")
		err := typeCheck(ctx, w, changes)
		done(err)
		if err != nil {
			return nil, Explain(err, w.Manifest)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted before writing: %w", err)
	}
	return changes, w.Apply(changes, artifacts.Record(w.Manifest, arts, append(stale, kept...)))
}

// dropEdited splits stale generated files into those to remove and those
// the user edited since spgen wrote them, which are kept (as upgrade keeps
// them): removing them would lose the edits without a word.
func dropEdited(w *workspace.Workspace, stale []string) (remove, kept []string, err error) {
	for _, path := range stale {
		content, err := w.Read(path)
		if err != nil {
			return nil, nil, err
		}
		entry, _ := w.Manifest.Entry(path)
		if content != nil && scaffold.Hash(content) != entry.Hash {
			kept = append(kept, path)
			continue
		}
		remove = append(remove, path)
	}
	return remove, kept, nil
}

// typeCheck checks the project as it will be after changes: through an
// overlay when files are only written, in a stage when some are removed.
//
// The user's API types, with their new deepcopy code, must always compile.
// The whole module is checked when generated code outside the API packages
// changes (the wiring); deepcopy code only follows the types, and code of
// the user's that a types edit breaks is theirs to fix after generating, as
// with any generator.
func typeCheck(ctx context.Context, w *workspace.Workspace, changes []workspace.Change) error {
	overlay := map[string][]byte{}
	apis := apiPatterns(w.Project)
	inAPI := map[string]bool{}
	for _, v := range w.Project.Versions() {
		inAPI["api/"+v] = true
	}
	whole := false
	for _, c := range changes {
		if c.New == nil {
			return typeCheckStaged(ctx, w, changes)
		}
		overlay[c.Path] = c.New
		whole = whole || (strings.HasSuffix(c.Path, ".go") && !inAPI[path.Dir(c.Path)])
	}
	if whole {
		return typecheck.ModuleWith(ctx, w.Dir, overlay)
	}
	return typecheck.Packages(ctx, w.Dir, overlay, apis...)
}

func typeCheckStaged(ctx context.Context, w *workspace.Workspace, changes []workspace.Change) error {
	st, err := w.Scratch()
	if err != nil {
		return err
	}
	defer st.Discard()
	if err := st.Apply(changes); err != nil {
		return err
	}
	return typecheck.Module(ctx, st.Dir)
}

// apiPatterns are the package patterns of the project's API versions.
func apiPatterns(p *spec.Project) []string {
	var out []string
	for _, v := range p.Versions() {
		out = append(out, "./api/"+v)
	}
	return out
}

// Explain adds hints to type errors where two files of a package declare
// the same name and one of them is spgen's: a scaffolded file is the
// user's to change, a generated one is not.
func Explain(err error, lock *scaffold.Manifest) error {
	var te *typecheck.TypeErrors
	if !errors.As(err, &te) {
		return err
	}
	for _, r := range te.Redeclared {
		te.Hints = append(te.Hints, explainRedeclaration(r, lock))
	}
	return err
}

func explainRedeclaration(r typecheck.Redeclaration, lock *scaffold.Manifest) string {
	at, other := fileOf(r.At), fileOf(r.Other)
	owner := func(path string) scaffold.Owner {
		if e, ok := lock.Entry(path); ok {
			return e.Owner
		}
		return ""
	}
	switch {
	case owner(at) == scaffold.Generated || owner(other) == scaffold.Generated:
		gen, mine := at, other
		if owner(other) == scaffold.Generated {
			gen, mine = other, at
		}
		return fmt.Sprintf("%s is generated into %s; remove or rename it in %s", r.Name, gen, mine)
	case owner(at) == scaffold.Scaffolded && owner(other) != scaffold.Scaffolded:
		at, other = other, at
		fallthrough
	case owner(other) == scaffold.Scaffolded:
		return fmt.Sprintf("%s is declared in %s and in %s, which spgen scaffolded; that file is yours: delete or rename its %s (and update its uses) if you want your own, then run spgen generate again", r.Name, at, other, r.Name)
	}
	return fmt.Sprintf("%s is declared in both %s and %s; rename one of them", r.Name, at, other)
}

// fileOf strips the line and column from a file:line:col position.
func fileOf(pos string) string {
	file, _, _ := strings.Cut(pos, ":")
	return file
}
