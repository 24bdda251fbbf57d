// Package addapi adds an API kind, or a new version of one, to an existing
// project (spgen add-api): its types, reconciler, tests, samples and fixtures,
// its entry in spgen.yaml, and everything generated from them.
package addapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/open-control-plane/spgen/internal/artifacts"
	"github.com/open-control-plane/spgen/internal/merge"
	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/typecheck"
	"github.com/open-control-plane/spgen/internal/warmup"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// Options control one add-api run.
type Options struct {
	DryRun     bool
	SkipVerify bool
	Out        io.Writer // diffs for DryRun
	Progress   *progress.Reporter
}

// Run adds k to the project in w and returns the changes made (or, with
// DryRun, that would be made).
func Run(ctx context.Context, w *workspace.Workspace, k spec.Kind, o Options) ([]workspace.Change, error) {
	if err := render.RequireCurrent(w.Manifest.Templates); err != nil {
		return nil, err
	}
	p := *w.Project
	p.Kinds = append([]spec.Kind(nil), w.Project.Kinds...)
	if err := p.AddKind(k); err != nil {
		return nil, err
	}
	done := o.Progress.Step("rendering " + k.Kind + " " + k.Version)
	tree, err := render.RenderWith(&p, render.Current, w.Manifest.SpgenVersion)
	var before *scaffold.Tree
	if err == nil {
		before, err = render.RenderWith(w.Project, render.Current, w.Manifest.SpgenVersion)
	}
	done(err)
	if err != nil {
		return nil, err
	}
	lock := w.Manifest.Clone()
	scaffolded, err := scaffoldedFiles(w, before, tree, lock, k, o.Progress)
	if err != nil {
		return nil, err
	}
	newFiles, err := w.Diff(scaffolded, nil)
	if err != nil {
		return nil, err
	}
	if err := w.CheckWritable(newFiles); err != nil {
		return nil, err
	}

	st, err := w.Scratch()
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	if err := st.Apply(newFiles); err != nil {
		return nil, err
	}
	if err := warmup.Ensure(ctx, st.Dir, o.Progress); err != nil {
		return nil, err
	}
	done = o.Progress.Step("generating deepcopy, CRDs, permissions and wiring")
	arts, err := artifacts.Of(ctx, st.Dir, &p, tree)
	done(err)
	if err != nil {
		return nil, err
	}
	stale := artifacts.Stale(w.Manifest, arts)
	generated, err := w.Diff(arts, stale)
	if err != nil {
		return nil, err
	}
	changes := append(newFiles, generated...)
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	if o.DryRun {
		return changes, workspace.WriteDiff(o.Out, changes)
	}
	if !o.SkipVerify {
		if err := st.Apply(generated); err != nil {
			return nil, err
		}
		done := o.Progress.Step("type-checking the project")
		err := typecheck.Module(ctx, st.Dir)
		done(err)
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted before writing: %w", err)
	}
	return changes, w.Apply(changes, artifacts.Record(lock, arts, stale))
}

// scaffoldedFiles are the files of tree the new kind k adds or changes,
// recorded in lock: new files, spgen.yaml, and the kind's changes to files
// spgen scaffolded before (merged into the user's version). A new file
// where the user has one of their own is refused.
func scaffoldedFiles(w *workspace.Workspace, before, tree *scaffold.Tree, lock *scaffold.Manifest, k spec.Kind, rep *progress.Reporter) (map[string][]byte, error) {
	scaffolded := map[string][]byte{}
	var clash []string
	for _, path := range tree.Paths() {
		f, _ := tree.Get(path)
		if f.Owner != scaffold.Scaffolded {
			continue
		}
		if path == spec.FileName {
			scaffolded[path] = f.Content
			lock.Set(path, f.Owner, f.Content)
			continue
		}
		if _, known := w.Manifest.Entry(path); known {
			// The user's now: only what the new kind changes in it (its
			// entry in the ProviderConfig samples) is merged in.
			merged, ok, err := mergeKnown(w, before, path, f.Content)
			if err != nil {
				return nil, err
			}
			if ok {
				scaffolded[path] = merged
				lock.Set(path, f.Owner, f.Content)
			} else if merged != nil {
				rep.Printf("%s: your changes conflict with the %s entry spgen would add; add it yourself", path, k.Kind)
			}
			continue
		}
		if old, err := w.Read(path); err != nil {
			return nil, err
		} else if old != nil {
			clash = append(clash, path)
			continue
		}
		scaffolded[path] = f.Content
		lock.Set(path, f.Owner, f.Content)
	}
	if len(clash) > 0 {
		sort.Strings(clash)
		return nil, &spec.InputError{Flag: "--kind", Value: k.Kind, Msg: "would overwrite files spgen did not write: " + strings.Join(clash, ", ") + " (move them away first)"}
	}
	return scaffolded, nil
}

// mergeKnown merges what adding the kind changes in the scaffolded file at
// path (rendered as after) into the file as it is. It returns the merged
// text and true when the render changed and the merge is clean, the merge
// with conflicts and false when they conflict, and nil when the render did
// not change or the file is gone.
func mergeKnown(w *workspace.Workspace, before *scaffold.Tree, path string, after []byte) ([]byte, bool, error) {
	base, ok := before.Get(path)
	if !ok || bytes.Equal(base.Content, after) {
		return nil, false, nil
	}
	ours, err := w.Read(path)
	if err != nil || ours == nil {
		return nil, false, err
	}
	m := merge.Three(string(base.Content), string(ours), string(after), merge.Labels{Ours: "yours", Base: "before", Theirs: "with the new kind"})
	return []byte(m.Text), m.Conflicts == 0, nil
}
