// Package upgrade moves a project to the current templates and stack (spgen
// upgrade). What spgen originally wrote is re-rendered from spgen.yaml with
// the generation recorded in the lock file, so the three-way merge of every
// file works offline: files the user did not edit are replaced, files the
// templates did not change are kept, and files both changed are merged line
// by line, with conflict markers where the changes collide.
package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"golang.org/x/mod/semver"

	"github.com/open-control-plane/spgen/internal/artifacts"
	"github.com/open-control-plane/spgen/internal/githistory"
	"github.com/open-control-plane/spgen/internal/gomod"
	"github.com/open-control-plane/spgen/internal/merge"
	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/stack"
	"github.com/open-control-plane/spgen/internal/typecheck"
	"github.com/open-control-plane/spgen/internal/warmup"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// What happened to one file.
const (
	Created     = "created"     // new in this generation
	Replaced    = "replaced"    // the user had not edited it
	Merged      = "merged"      // both changed it; merged cleanly
	Conflicted  = "conflicted"  // both changed the same lines
	Kept        = "kept"        // the templates did not change it, or the user deleted it
	Removed     = "removed"     // no longer produced and never edited
	Regenerated = "regenerated" // generated code brought up to date
	Migrated    = "migrated"    // objects the user keeps carried over to a changed API
	Restored    = "restored"    // put back as it was before an aborted upgrade
)

// Options control one upgrade.
type Options struct {
	DryRun     bool
	SkipVerify bool
	// AllowDowngrade lets an older spgen move the project's pin back to
	// its own version.
	AllowDowngrade bool
	SpgenVersion   string
	Out            io.Writer // plan diffs for DryRun
	Progress       *progress.Reporter
}

// File is the outcome for one path.
type File struct {
	Path, Action, Note string
}

// Result describes an upgrade.
type Result struct {
	From, To string
	Files    []File
	Warnings []string
	// Unmerged are the template changes to files the user rewrote, which
	// were kept as they are.
	Unmerged []Unmerged
	Changes  []workspace.Change

	// recorded is what the lock records per scaffolded path after the
	// upgrade: the current templates' output, the base of the next upgrade.
	recorded map[string][]byte
}

// Unmerged is a template change left out of a file the user rewrote.
type Unmerged struct {
	Path string
	// Diff is the template's change, as a unified diff.
	Diff string
}

// Count returns how many files had the given action.
func (r *Result) Count(action string) int {
	n := 0
	for _, f := range r.Files {
		if f.Action == action {
			n++
		}
	}
	return n
}

// ConflictError lists files left with conflict markers.
type ConflictError struct{ Paths []string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%d file(s) have conflicts, marked with <<<<<<< ||||||| ======= >>>>>>>: %s\nresolve them, then run spgen upgrade --continue to finish the upgrade (spgen upgrade --abort puts everything back as it was)", len(e.Paths), strings.Join(e.Paths, ", "))
}

// describe names what a project was written with. A released spgen version
// counts too: the project's Taskfile and CI pin it.
func describe(g render.Generation, spgenVersion string) string {
	s := "templates " + g.Name + ", stack " + g.Stack.Version
	if semver.IsValid(spgenVersion) {
		s += ", spgen " + spgenVersion
	}
	return s
}

// bases is what spgen wrote into the project: the generation's rendering
// when spgen still stores it, and for every file whose recorded hash that
// does not give (or when it is not stored), the file itself if unedited,
// else the version with that hash in the project's git history. A file
// found nowhere is merged against an empty base: one whole conflict,
// nothing guessed, and a warning says so.
func bases(ctx context.Context, w *workspace.Workspace, old render.Generation, res *Result) (*scaffold.Tree, error) {
	base := scaffold.NewTree()
	if old.Stored() {
		var err error
		if base, err = render.RenderWith(w.Project, old, w.Manifest.SpgenVersion); err != nil {
			var input *spec.InputError
			if errors.As(err, &input) {
				return nil, err
			}
			// A kept generation renders with every stack it was released
			// with: the lock file was edited.
			return nil, &spec.InputError{File: scaffold.ManifestPath, Msg: fmt.Sprintf(
				"templates %s with stack %s is a combination spgen never wrote (%v); restore the lock file from version control", old.Name, w.Manifest.Stack, err)}
		}
	} else {
		base.Add("go.mod", old.Stack.GoMod(w.Project.Module, w.Project.Options.Helm()), scaffold.Scaffolded)
		base.Add("go.sum", old.Stack.GoSum(w.Project.Options.Helm()), scaffold.Scaffolded)
	}
	missing := map[string]string{}
	for _, e := range w.Manifest.Files {
		if f, ok := base.Get(e.Path); e.Owner != scaffold.Scaffolded || ok && scaffold.Hash(f.Content) == e.Hash {
			continue
		}
		disk, err := w.Read(e.Path)
		if err != nil {
			return nil, err
		}
		if disk != nil && scaffold.Hash(disk) == e.Hash {
			base.Add(e.Path, disk, scaffold.Scaffolded)
			continue
		}
		missing[e.Path] = e.Hash
	}
	if len(missing) == 0 {
		return base, nil
	}
	want := map[string]bool{}
	for _, h := range missing {
		want[h] = true
	}
	found, err := githistory.Find(ctx, w.Dir, slices.Sorted(maps.Keys(missing)), want)
	if err != nil {
		return nil, err
	}
	for _, path := range slices.Sorted(maps.Keys(missing)) {
		if content, ok := found[missing[path]]; ok {
			base.Add(path, content, scaffold.Scaffolded)
		} else {
			res.Warnings = append(res.Warnings, path+": what spgen wrote is neither rendered by this spgen nor in the project's git history, so your edits are merged against nothing (commit spgen's output before editing it to avoid this)")
		}
	}
	return base, nil
}

// Plan works out the upgrade of every scaffolded file and the lock file
// that records it, reading the project but writing nothing. Generated files
// are not part of the plan: they follow from the upgraded sources.
func Plan(ctx context.Context, w *workspace.Workspace, o Options) (*Result, *scaffold.Manifest, error) {
	old, err := render.LookupGeneration(w.Manifest.Templates)
	if err != nil {
		return nil, nil, err
	}
	st, ok := stack.Lookup(w.Manifest.Stack)
	if !ok {
		return nil, nil, &spec.InputError{Msg: fmt.Sprintf("%s: stack %q is unknown to this spgen; was the project written by a newer spgen?", scaffold.ManifestPath, w.Manifest.Stack)}
	}
	old.Stack = st
	next := render.Current
	to := o.SpgenVersion
	if !semver.IsValid(to) {
		to = w.Manifest.SpgenVersion // a development build moves no pin
	}
	if semver.IsValid(w.Manifest.SpgenVersion) && semver.Compare(to, w.Manifest.SpgenVersion) < 0 && !o.AllowDowngrade {
		return nil, nil, &spec.InputError{File: scaffold.ManifestPath, Msg: fmt.Sprintf("the project pins spgen %s, newer than this spgen (%s); upgrading would move the pin back. Use spgen %s (task generate runs it), or pass --allow-downgrade to move the pin back on purpose", w.Manifest.SpgenVersion, to, w.Manifest.SpgenVersion)}
	}
	res := &Result{From: describe(old, w.Manifest.SpgenVersion), To: describe(next, to)}
	if res.From == res.To {
		return res, w.Manifest, nil
	}
	done := o.Progress.Step("finding what spgen wrote (" + res.From + ") and rendering what it writes now (" + res.To + ")")
	base, err := bases(ctx, w, old, res)
	if err == nil {
		var nextTree *scaffold.Tree
		nextTree, err = render.RenderWith(w.Project, next, to)
		if err == nil {
			err = plan(w, base, nextTree, res, migrations(w, old, next))
		}
		if err == nil {
			err = migrateUsersFiles(w, res, migrations(w, old, next))
		}
	}
	done(err)
	if err != nil {
		return nil, nil, err
	}
	lock := w.Manifest.Clone()
	// The lock records the version the files were rendered for: the base of
	// the next upgrade.
	lock.Templates, lock.Stack, lock.SpgenVersion = next.Name, next.Stack.Version, to
	for _, f := range res.Files {
		if f.Action == Removed || (f.Action == Kept && f.Note == noLongerProduced) {
			lock.Delete(f.Path)
		}
	}
	for path, content := range res.recorded {
		lock.Set(path, scaffold.Scaffolded, content)
	}
	return res, lock, nil
}

// Conflicts lists the files the plan leaves with conflict markers.
func (r *Result) Conflicts() []string {
	var out []string
	for _, f := range r.Files {
		if f.Action == Conflicted {
			out = append(out, f.Path)
		}
	}
	sort.Strings(out)
	return out
}

// Run upgrades the project in w.
func Run(ctx context.Context, w *workspace.Workspace, o Options) (*Result, error) {
	res, lock, err := Plan(ctx, w, o)
	if err != nil || res.From == res.To {
		return res, err
	}
	if err := w.CheckWritable(res.Changes); err != nil {
		return nil, err
	}
	conflicts := res.Conflicts()
	// Generated files follow the sources; with a conflict in them the
	// generators cannot read them, so that waits for --continue.
	regenerate := !slices.ContainsFunc(conflicts, isGoSource)
	if regenerate {
		verifying := o.SkipVerify
		o.SkipVerify = o.SkipVerify || len(conflicts) > 0
		err := regenerateStaged(ctx, w, o, res, lock)
		o.SkipVerify = verifying
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(res.Changes, func(i, j int) bool { return res.Changes[i].Path < res.Changes[j].Path })
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	if o.DryRun {
		if err := workspace.WriteDiff(o.Out, res.Changes); err != nil {
			return nil, err
		}
	} else if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted before writing: %w", err)
	} else if err := apply(w, res, lock, regenerate); err != nil {
		return nil, err
	}
	if len(conflicts) > 0 {
		return res, &ConflictError{Paths: conflicts}
	}
	return res, nil
}

// apply writes the upgrade. One with conflicts keeps the old lock file and
// records how to finish or undo it instead.
func apply(w *workspace.Workspace, res *Result, lock *scaffold.Manifest, regenerated bool) error {
	if len(res.Conflicts()) == 0 {
		return w.Apply(res.Changes, lock)
	}
	rec, err := newRecord(res, lock, regenerated)
	if err != nil {
		return err
	}
	return w.Apply(res.Changes, nil, workspace.StateChange{Path: workspace.UnfinishedUpgrade, New: rec})
}

// isGoSource reports whether the generators or the go command read path.
func isGoSource(path string) bool {
	return strings.HasSuffix(path, ".go") || path == "go.mod" || path == "go.sum" || path == "hack/boilerplate.go.txt"
}

const noLongerProduced = "no longer produced by spgen; edited, so it is yours now"

// A file the user rewrote keeps less than rewrittenBelow of what spgen
// wrote (and had at least minRewriteLines lines): the template's change is
// shown to the user instead of being merged into code it no longer fits.
const (
	rewrittenBelow  = 0.3
	minRewriteLines = 10
)

// plan decides the outcome of every scaffolded file.
func plan(w *workspace.Workspace, base, next *scaffold.Tree, res *Result, migrate shapeChange) error {
	paths := scaffoldedPaths(w.Manifest, base, next)
	res.recorded = map[string][]byte{}
	labels := merge.Labels{Ours: "yours", Base: "spgen " + res.From, Theirs: "spgen " + res.To}
	for path := range paths {
		entry, inLock := w.Manifest.Entry(path)
		disk, err := w.Read(path)
		if err != nil {
			return err
		}
		b, inBase := base.Get(path)
		n, inNext := next.Get(path)
		edited := inLock && disk != nil && scaffold.Hash(disk) != entry.Hash
		baseKnown := inLock && inBase && scaffold.Hash(b.Content) == entry.Hash
		if inNext {
			res.recorded[path] = n.Content
		}
		change := func(action, note string, content []byte) {
			res.Files = append(res.Files, File{Path: path, Action: action, Note: note})
			if content != nil && !bytes.Equal(content, disk) {
				res.Changes = append(res.Changes, workspace.Change{Path: path, Old: disk, New: content})
			}
		}
		migrated, err := migrate.apply(path, disk)
		if err != nil {
			return err
		}
		switch {
		case !inNext:
			if disk != nil && inLock {
				res.noLongerProduced(path, disk, edited)
			}
		case !inLock:
			switch {
			case disk == nil:
				change(Created, "", n.Content)
			case bytes.Equal(disk, n.Content):
			default:
				change(Conflicted, "a file spgen did not write is in the way", []byte(merge.Three("", string(disk), string(n.Content), labels).Text))
			}
		case disk == nil:
			res.Files = append(res.Files, File{Path: path, Action: Kept, Note: "deleted by you; not recreated"})
		case bytes.Equal(disk, n.Content):
		case !edited:
			change(Replaced, "", n.Content)
		case migrated != nil:
			// The user's objects in the new shape come first; what else
			// the template changed in the file is shown, not merged.
			change(Migrated, "your objects carried over to the new shape; the template's change is shown below, not merged", migrated)
			res.Unmerged = append(res.Unmerged, Unmerged{Path: path, Diff: udiff.Unified("a/"+path+" (spgen "+res.From+")", "b/"+path+" (spgen "+res.To+")", string(b.Content), string(n.Content))})
		case path == "go.mod" || path == "go.sum":
			merged, err := mergeModule(path, b.Content, disk, n.Content)
			if err != nil {
				return err
			}
			change(Merged, "stack versions updated, your requirements kept", merged)
		case baseKnown && bytes.Equal(b.Content, n.Content):
			res.Files = append(res.Files, File{Path: path, Action: Kept})
		case baseKnown && rewritten(b.Content, disk):
			res.Files = append(res.Files, File{Path: path, Action: Kept, Note: fmt.Sprintf("you rewrote it (%.0f%% of what spgen wrote is left); the template's change is shown below, not merged", 100*merge.Retained(string(b.Content), string(disk)))})
			res.Unmerged = append(res.Unmerged, Unmerged{Path: path, Diff: udiff.Unified("a/"+path+" (spgen "+res.From+")", "b/"+path+" (spgen "+res.To+")", string(b.Content), string(n.Content))})
		default:
			var baseText []byte
			if baseKnown {
				baseText = b.Content
			}
			m := mergeFile(path, string(baseText), string(disk), string(n.Content), w.Project.Module, labels)
			if m.Conflicts > 0 {
				change(Conflicted, fmt.Sprintf("%d conflict(s)", m.Conflicts), []byte(m.Text))
			} else {
				change(Merged, "", []byte(m.Text))
			}
		}
	}
	return nil
}

// scaffoldedPaths are the paths of scaffolded files the lock records or
// either tree renders.
func scaffoldedPaths(lock *scaffold.Manifest, base, next *scaffold.Tree) map[string]bool {
	paths := map[string]bool{}
	for _, t := range []*scaffold.Tree{base, next} {
		for _, p := range t.Paths() {
			if f, _ := t.Get(p); f.Owner == scaffold.Scaffolded {
				paths[p] = true
			}
		}
	}
	for _, e := range lock.Files {
		if e.Owner == scaffold.Scaffolded {
			paths[e.Path] = true
		}
	}
	return paths
}

// noLongerProduced removes a file spgen wrote and the new generation does
// not, unless the user edited it: then it is theirs and kept. A file spgen
// did not write is never touched.
func (res *Result) noLongerProduced(path string, disk []byte, edited bool) {
	if edited {
		res.Files = append(res.Files, File{Path: path, Action: Kept, Note: noLongerProduced})
		return
	}
	res.Files = append(res.Files, File{Path: path, Action: Removed})
	res.Changes = append(res.Changes, workspace.Change{Path: path, Old: disk})
}

// rewritten reports whether the user replaced most of what spgen wrote.
func rewritten(base, disk []byte) bool {
	return bytes.Count(base, []byte("\n")) >= minRewriteLines && merge.Retained(string(base), string(disk)) < rewrittenBelow
}

// mergeFile merges Go files with their imports as sets, others as text.
func mergeFile(path, base, ours, theirs, module string, l merge.Labels) merge.Result {
	if strings.HasSuffix(path, ".go") {
		return merge.Go(base, ours, theirs, module, l)
	}
	return merge.Three(base, ours, theirs, l)
}

func mergeModule(path string, base, user, next []byte) ([]byte, error) {
	if path == "go.sum" {
		return gomod.MergeSum(base, user, next), nil
	}
	return gomod.Merge(base, user, next)
}

// regenerateStaged brings generated files up to date with the upgraded
// sources and type-checks the result, all in a stage.
func regenerateStaged(ctx context.Context, w *workspace.Workspace, o Options, res *Result, lock *scaffold.Manifest) error {
	st, err := w.Scratch()
	if err != nil {
		return err
	}
	defer st.Discard()
	if err := st.Apply(res.Changes); err != nil {
		return err
	}
	if err := warmup.Ensure(ctx, st.Dir, o.Progress); err != nil {
		return err
	}
	done := o.Progress.Step("generating deepcopy, CRDs, permissions and wiring")
	arts, err := artifacts.Compute(ctx, st.Dir, w.Project)
	done(err)
	if err != nil {
		return err
	}
	stale := artifacts.Stale(w.Manifest, arts)
	generated, err := w.Diff(arts, stale)
	if err != nil {
		return err
	}
	for _, c := range generated {
		if e, ok := w.Manifest.Entry(c.Path); ok && c.Old != nil && scaffold.Hash(c.Old) != e.Hash {
			res.Warnings = append(res.Warnings, c.Path+": your edits to this generated file were replaced; change its sources instead")
		}
		action := Regenerated
		switch {
		case c.New == nil:
			action = Removed
		case c.Old == nil:
			action = Created
		}
		res.Files = append(res.Files, File{Path: c.Path, Action: action})
	}
	res.Changes = append(res.Changes, generated...)
	*lock = *artifacts.Record(lock, arts, stale)
	if err := st.Apply(generated); err != nil {
		return err
	}
	if err := tidyModule(ctx, w, o, st.Dir, res); err != nil {
		return err
	}
	if o.SkipVerify || o.DryRun {
		return nil
	}
	done = o.Progress.Step("type-checking the upgraded project")
	err = typecheck.Module(ctx, st.Dir)
	done(err)
	return err
}

// tidyModule runs go mod tidy on the upgraded project, so that the merged
// go.mod and go.sum are exactly what the code needs: the stack's new
// modules, the user's own, nothing stale.
func tidyModule(ctx context.Context, w *workspace.Workspace, o Options, dir string, res *Result) error {
	done := o.Progress.Step("tidying go.mod and go.sum")
	goMod, goSum, err := gomod.Tidy(ctx, dir)
	done(err)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		res.Warnings = append(res.Warnings, "go.mod could not be tidied, run go mod tidy after fixing the build: "+err.Error())
		return nil
	}
	for path, content := range map[string][]byte{"go.mod": goMod, "go.sum": goSum} {
		if err := setChange(w, res, path, content); err != nil {
			return err
		}
	}
	return nil
}

// setChange makes content the new content of path, in place of what the
// plan had for it.
func setChange(w *workspace.Workspace, res *Result, path string, content []byte) error {
	for i := range res.Changes {
		if res.Changes[i].Path == path {
			res.Changes[i].New = content
			return nil
		}
	}
	disk, err := w.Read(path)
	if err != nil || bytes.Equal(disk, content) {
		return err
	}
	res.Changes = append(res.Changes, workspace.Change{Path: path, Old: disk, New: content})
	res.Files = append(res.Files, File{Path: path, Action: Merged, Note: "tidied"})
	return nil
}

// Status says whether a project is behind the running spgen, for
// `spgen upgrade --check`.
type Status struct {
	// Behind lists what is older than the running spgen's, one line each.
	Behind []string
	// Unfinished reports an upgrade that stopped at conflicts.
	Unfinished bool
	Current    string
}

// Check compares the project's lock file with what this spgen writes,
// reading nothing else and writing nothing.
func Check(w *workspace.Workspace, spgenVersion string) (*Status, error) {
	old, err := render.LookupGeneration(w.Manifest.Templates)
	if err != nil {
		return nil, err
	}
	next := render.Current
	s := &Status{Current: describe(next, spgenVersion)}
	if old.Name != next.Name {
		s.Behind = append(s.Behind, fmt.Sprintf("templates generation %s (this spgen writes %s)", old.Name, next.Name))
	}
	if w.Manifest.Stack != next.Stack.Version {
		s.Behind = append(s.Behind, fmt.Sprintf("stack %s (this spgen's is %s)", w.Manifest.Stack, next.Stack.Version))
	}
	if semver.IsValid(spgenVersion) && semver.IsValid(w.Manifest.SpgenVersion) && semver.Compare(w.Manifest.SpgenVersion, spgenVersion) < 0 {
		s.Behind = append(s.Behind, fmt.Sprintf("spgen %s (this one is %s)", w.Manifest.SpgenVersion, spgenVersion))
	}
	_, err = os.Lstat(filepath.Join(w.Dir, filepath.FromSlash(workspace.UnfinishedUpgrade)))
	s.Unfinished = err == nil
	return s, nil
}
