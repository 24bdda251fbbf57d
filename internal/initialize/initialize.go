// Package initialize builds a new provider repository: render, generate,
// type-check and commit, in that order, committing nothing unless every step
// succeeds.
package initialize

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/open-control-plane/spgen/internal/artifacts"
	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/projectfs"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/typecheck"
	"github.com/open-control-plane/spgen/internal/warmup"
)

// Options are the inputs of one init run besides the project itself.
type Options struct {
	Dir          string
	Force        bool
	DryRun       bool
	SkipVerify   bool
	SpgenVersion string
	Progress     *progress.Reporter
	// Generation is the template set to use; the zero value means the
	// current one. Earlier ones exist to test upgrades.
	Generation render.Generation
}

func (o Options) generation() render.Generation {
	if o.Generation.Name == "" {
		return render.Current
	}
	return o.Generation
}

// Result describes what was (or, with DryRun, would be) written.
type Result struct {
	Tree        *scaffold.Tree
	Overwritten []string // existing files replaced (only with Force)
}

// CheckTarget validates the target directory: it must be absent, an empty
// directory, or (with force) any directory, and hold no mount point.
func CheckTarget(dir string, force bool) error {
	dir, err := projectfs.Resolve(dir)
	if err != nil {
		return &spec.InputError{Flag: "--dir", Value: dir, Msg: err.Error()}
	}
	info, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &spec.InputError{Flag: "--dir", Value: dir, Msg: err.Error()}
	}
	if !info.IsDir() {
		return &spec.InputError{Flag: "--dir", Value: dir, Msg: "exists and is not a directory"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &spec.InputError{Flag: "--dir", Value: dir, Msg: err.Error()}
	}
	if len(entries) > 0 && !force {
		return &spec.InputError{Flag: "--dir", Value: dir, Msg: "is not empty (use --force to write into it; existing files with the same paths are replaced)"}
	}
	if mount, err := mountPointIn(dir); err != nil || mount != "" {
		msg := fmt.Sprintf("holds the mount point %s (another file system); spgen writes a project only within one file system: unmount it or choose another directory", mount)
		if err != nil {
			msg = err.Error()
		}
		return &spec.InputError{Flag: "--dir", Value: dir, Msg: msg}
	}
	return nil
}

// mountPointIn returns the first directory below dir that is on another
// file system than dir itself, or "".
func mountPointIn(dir string) (string, error) {
	root, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	dev := root.Sys().(*syscall.Stat_t).Dev
	found := ""
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Sys().(*syscall.Stat_t).Dev != dev {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found, err
}

// Plan renders the project and runs the code generators on a staged copy.
// The stage is returned so the caller can verify and commit it.
func Plan(ctx context.Context, p *spec.Project, o Options) (*scaffold.Tree, *scaffold.Draft, error) {
	done := o.Progress.Step("rendering templates")
	tree, err := render.RenderWith(p, o.generation(), o.SpgenVersion)
	done(err)
	if err != nil {
		return nil, nil, err
	}
	stage, err := scaffold.NewDraft(o.Dir, o.DryRun)
	if err != nil {
		return nil, nil, err
	}
	if err := stage.Write(tree); err != nil {
		stage.Discard()
		return nil, nil, err
	}
	if err := warmup.Ensure(ctx, stage.Dir, o.Progress); err != nil {
		stage.Discard()
		return nil, nil, err
	}
	done = o.Progress.Step("generating deepcopy, CRDs, permissions and wiring")
	generated, err := artifacts.Of(ctx, stage.Dir, p, tree)
	done(err)
	if err != nil {
		stage.Discard()
		return nil, nil, err
	}
	for path, content := range generated {
		if f, ok := tree.Get(path); ok && f.Owner == scaffold.Generated {
			continue // rendered, and written above
		}
		tree.Add(path, content, scaffold.Generated)
		if err := stage.WriteFile(path, content); err != nil {
			stage.Discard()
			return nil, nil, err
		}
	}
	return tree, stage, nil
}

// Run creates the project p in o.Dir.
func Run(ctx context.Context, p *spec.Project, o Options) (*Result, error) {
	if err := CheckTarget(o.Dir, o.Force); err != nil {
		return nil, err
	}
	o.Progress.Printf("spgen: creating %s in %s\n", p.Module, o.Dir)
	var err error
	if o.Dir, err = projectfs.Resolve(o.Dir); err != nil {
		return nil, err
	}
	tree, stage, err := Plan(ctx, p, o)
	if err != nil {
		return nil, err
	}
	defer stage.Discard()

	lock, err := scaffold.NewManifest(tree, o.SpgenVersion, o.generation().Name, o.generation().Stack.Version).Marshal()
	if err != nil {
		return nil, err
	}
	tree.Add(scaffold.ManifestPath, lock, scaffold.Generated)
	res := &Result{Tree: tree, Overwritten: existing(o.Dir, tree)}
	if o.DryRun {
		return res, nil
	}
	if err := stage.WriteFile(scaffold.ManifestPath, lock); err != nil {
		return nil, err
	}
	if !o.SkipVerify {
		done := o.Progress.Step("type-checking the project")
		err := typecheck.Module(ctx, stage.Dir)
		done(err)
		if err != nil {
			return nil, err
		}
	}
	warmup.Vet(ctx, stage.Dir, o.Progress)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted before writing: %w", err)
	}
	if err := stage.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// existing lists planned files that already exist in dir.
func existing(dir string, t *scaffold.Tree) []string {
	var out []string
	for _, p := range t.Paths() {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
			out = append(out, p)
		}
	}
	return out
}
