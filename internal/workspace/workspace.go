// Package workspace is an existing spgen project on disk: its spgen.yaml and
// lock file, a staged copy to generate and type-check in, and the changes a
// command wants to make, shown as diffs or applied as one transaction. An
// open workspace holds the project lock: no other spgen command changes the
// project until it is closed.
package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aymanbagabas/go-udiff"

	"github.com/open-control-plane/spgen/internal/flock"
	"github.com/open-control-plane/spgen/internal/projectfs"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/txn"
)

// Workspace is an open spgen project.
type Workspace struct {
	Dir      string
	Project  *spec.Project
	Manifest *scaffold.Manifest
	// Recovered reports that Open completed an interrupted earlier run.
	Recovered bool

	fs    *projectfs.Dir
	held  *flock.Lock
	check func(*spec.Project) error
}

// OpenOptions control how a project is opened.
type OpenOptions struct {
	// Wait is how long to wait for another command's lock; 0 means
	// DefaultWait.
	Wait time.Duration
	// Waiting is told once when the lock is held by another command.
	Waiting func()
	// ReadOnly opens the project for a command that promises to write
	// nothing (--check, --dry-run): it neither completes an interrupted
	// run's changes nor cleans up after one, and refuses to work on a
	// project whose committed changes are not applied yet.
	ReadOnly bool
	// Unfinished opens a project whose upgrade stopped at conflicts, for
	// the commands that finish, undo or report it; every other command is
	// refused until then.
	Unfinished bool
	// Check validates spgen.yaml; nil means spec's own rules. Its input
	// errors are located in the file.
	Check func(*spec.Project) error
}

// UnfinishedUpgrade is the record an upgrade that stopped at conflicts
// leaves in the project (committed with it, so a teammate can finish it).
const UnfinishedUpgrade = projectfs.StateDir + "/upgrade.yaml"

// unfinished is why a command is refused while an upgrade is unfinished.
const unfinished = "an spgen upgrade of this project stopped at conflicts (" + UnfinishedUpgrade + "): resolve the conflict markers, then run spgen upgrade --continue, or undo the upgrade with spgen upgrade --abort; other commands wait until then"

// DefaultWait is how long a command waits for another one on the same
// project before it gives up.
const DefaultWait = 20 * time.Second

// Open takes the project lock, finishes any interrupted transaction, then
// reads and checks spgen.yaml and the lock file of the project in dir.
// Every path the lock file records is checked before anything else happens.
func Open(dir string, o OpenOptions) (*Workspace, error) {
	abs, err := Root(dir)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, &spec.InputError{Flag: "--dir", Value: dir, Msg: "is not a spgen project: " + err.Error()}
	}
	if !info.IsDir() {
		return nil, &spec.InputError{Flag: "--dir", Value: dir, Msg: "is not a directory"}
	}
	if _, err := os.Lstat(filepath.Join(abs, spec.FileName)); err != nil {
		return nil, &spec.InputError{Flag: "--dir", Value: dir, Msg: "is not a spgen project: no " + spec.FileName + " (create one with spgen init)"}
	}
	state, err := os.Lstat(filepath.Join(abs, projectfs.StateDir))
	if err != nil || !state.IsDir() {
		return nil, &spec.InputError{File: projectfs.StateDir, Msg: "is missing or not a directory: spgen keeps its lock file there"}
	}
	pfs, err := projectfs.Open(abs)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Dir: abs, fs: pfs}
	if err := w.open(o); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Root is the directory of the project dir names (see projectfs.Resolve).
func Root(dir string) (string, error) {
	resolved, err := projectfs.Resolve(dir)
	if err != nil {
		return "", &spec.InputError{Flag: "--dir", Value: dir, Msg: "is not a spgen project: " + err.Error()}
	}
	return resolved, nil
}

// Find returns the root of the project holding dir: the nearest directory
// from dir up that holds spgen.yaml, as git finds its repository.
func Find(dir string) (string, error) {
	start, err := Root(dir)
	if err != nil {
		return "", err
	}
	for d := start; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, spec.FileName)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", &spec.InputError{Msg: "no " + spec.FileName + " in " + dir + " or any parent directory: not a spgen project (create one with spgen init, or pass --dir)"}
		}
	}
}

func (w *Workspace) open(o OpenOptions) error {
	wait := o.Wait
	if wait == 0 {
		wait = DefaultWait
	}
	w.check = o.Check
	var err error
	// The lock is on spgen's state directory, which every project has.
	if w.held, err = flock.Acquire(filepath.Join(w.Dir, projectfs.StateDir), wait, o.Waiting); err != nil {
		return err
	}
	if err := w.recover(o.ReadOnly); err != nil {
		return err
	}
	if _, err := os.Lstat(filepath.Join(w.Dir, filepath.FromSlash(UnfinishedUpgrade))); err == nil && !o.Unfinished {
		return &spec.InputError{Msg: unfinished}
	}
	if w.Project, err = spec.LoadWith(w.Dir, w.check); err != nil {
		return err
	}
	if err := checkSources(w.Dir); err != nil {
		return err
	}
	w.Manifest, err = readLock(w.fs)
	return err
}

// recover completes what an interrupted earlier run committed, after
// checking the journal whole and the spgen.yaml the project will have once
// it is applied, and removes what such a run left unfinished.
func (w *Workspace) recover(readOnly bool) error {
	pending, err := txn.Pending(w.fs)
	if err != nil {
		return &spec.InputError{Msg: err.Error()}
	}
	if readOnly {
		if pending != nil {
			return &spec.InputError{Msg: "an interrupted spgen run left committed changes in " + txn.Dir + " that are not applied yet; this command writes nothing, so run spgen generate (without --check or --dry-run) to complete them first"}
		}
		return nil
	}
	if pending != nil {
		if content, ok := pending.Writes(scaffold.ManifestPath); ok {
			if _, err := scaffold.ParseManifest(content); err != nil {
				return fmt.Errorf("the %s an interrupted spgen run was writing is not valid, so its changes in %s were not applied: %w", scaffold.ManifestPath, txn.Dir, err)
			}
		}
		if content, ok := pending.Writes(spec.FileName); ok {
			if _, err := spec.ParseWith(content, w.check); err != nil {
				return fmt.Errorf("the %s an interrupted spgen run was writing is not valid, so its changes in %s were not applied: %w", spec.FileName, txn.Dir, err)
			}
		} else if _, err := spec.LoadWith(w.Dir, w.check); err != nil {
			return err
		}
	}
	if w.Recovered, err = txn.Recover(w.fs); err != nil {
		return fmt.Errorf("completing an interrupted spgen run: %w", err)
	}
	// A run killed while staging leaves its stage behind; under the lock
	// no other run is using one. A go command the killed run started may
	// still be finishing a write into it: a removal that races one is
	// repeated.
	stale, _ := filepath.Glob(filepath.Join(w.Dir, projectfs.StateDir, stagePrefix+"*"))
	for _, d := range stale {
		for range 3 {
			if os.RemoveAll(d) == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func readLock(pfs *projectfs.Dir) (*scaffold.Manifest, error) {
	path := filepath.Join(pfs.Path(), filepath.FromSlash(scaffold.ManifestPath))
	info, err := os.Lstat(path)
	if err != nil {
		return nil, &spec.InputError{File: scaffold.ManifestPath, Msg: err.Error() + " (spgen records what it wrote there; without it your edits cannot be told apart)"}
	}
	if !info.Mode().IsRegular() {
		return nil, &spec.InputError{File: scaffold.ManifestPath, Msg: "is not a regular file"}
	}
	if info.Size() > scaffold.MaxLockSize {
		return nil, &spec.InputError{File: scaffold.ManifestPath, Msg: fmt.Sprintf("is %d bytes; at most %d are accepted", info.Size(), scaffold.MaxLockSize)}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lock, err := scaffold.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	for _, e := range lock.Files {
		if err := pfs.CheckReachable(e.Path); err != nil {
			return nil, &spec.InputError{File: scaffold.ManifestPath, Msg: "entry " + err.Error()}
		}
	}
	return lock, nil
}

// Close releases the project lock.
func (w *Workspace) Close() {
	if w == nil {
		return
	}
	w.held.Release()
	w.held = nil
	if w.fs != nil {
		w.fs.Close()
		w.fs = nil
	}
}

// Read returns the content of a project file, or nil when it does not exist.
func (w *Workspace) Read(rel string) ([]byte, error) {
	b, err := w.fs.ReadFile(rel)
	var pe *projectfs.PathError
	if errors.As(err, &pe) {
		return nil, &spec.InputError{Msg: err.Error()}
	}
	return b, err
}

// Change is one file a command writes or removes.
type Change struct {
	Path string
	Old  []byte // nil: the file does not exist yet
	New  []byte // nil: the file is removed
}

// Verb says what the change does.
func (c Change) Verb() string {
	switch {
	case c.Old == nil:
		return "create"
	case c.New == nil:
		return "remove"
	default:
		return "update"
	}
}

// Diff compares desired contents (and paths to remove) with the project and
// returns the changes, sorted by path. Unchanged files are left out.
func (w *Workspace) Diff(desired map[string][]byte, remove []string) ([]Change, error) {
	var out []Change
	for path, content := range desired {
		old, err := w.Read(path)
		if err != nil {
			return nil, err
		}
		if old != nil && bytes.Equal(old, content) {
			continue
		}
		out = append(out, Change{Path: path, Old: old, New: content})
	}
	for _, path := range remove {
		if _, ok := desired[path]; ok {
			continue
		}
		old, err := w.Read(path)
		if err != nil {
			return nil, err
		}
		if old != nil {
			out = append(out, Change{Path: path, Old: old})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// WriteDiff prints the changes as a unified diff (git's a/ b/ labels).
func WriteDiff(out io.Writer, changes []Change) error {
	for _, c := range changes {
		from, to := "a/"+c.Path, "b/"+c.Path
		if c.Old == nil {
			from = "/dev/null"
		}
		if c.New == nil {
			to = "/dev/null"
		}
		d := udiff.Unified(from, to, string(c.Old), string(c.New))
		if _, err := io.WriteString(out, d); err != nil {
			return err
		}
		if d != "" && !strings.HasSuffix(d, "\n") {
			if _, err := io.WriteString(out, "\n"); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckWritable verifies that spgen may write every path of changes, before
// anything is planned on them: a path through a link or into .git is bad
// input, reported before a single byte is written.
func (w *Workspace) CheckWritable(changes []Change) error {
	for _, c := range changes {
		if err := w.fs.CheckReachable(c.Path); err != nil {
			return &spec.InputError{Msg: err.Error()}
		}
	}
	return nil
}

// StateChange is the new content of a file of spgen's state (below
// .spgen/), or its removal when New is nil.
type StateChange struct {
	Path string
	New  []byte
}

// Apply writes the changes, the new lock file and any changes of spgen's
// state as one transaction.
func (w *Workspace) Apply(changes []Change, lock *scaffold.Manifest, state ...StateChange) error {
	if err := w.CheckWritable(changes); err != nil {
		return err
	}
	tx, err := txn.Begin(w.fs)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if c.New == nil {
			err = tx.Remove(c.Path)
		} else {
			err = tx.Write(c.Path, c.New)
		}
		if err != nil {
			tx.Abort()
			return err
		}
	}
	if lock != nil {
		if err := w.addLock(tx, lock); err != nil {
			tx.Abort()
			return err
		}
	}
	for _, s := range state {
		if s.New == nil {
			err = tx.RemoveState(s.Path)
		} else {
			err = tx.WriteState(s.Path, s.New)
		}
		if err != nil {
			tx.Abort()
			return err
		}
	}
	return tx.Commit()
}

// addLock journals the new lock file, unless it is unchanged.
func (w *Workspace) addLock(tx *txn.Tx, lock *scaffold.Manifest) error {
	body, err := lock.Marshal()
	if err != nil {
		return err
	}
	old, err := os.ReadFile(filepath.Join(w.Dir, filepath.FromSlash(scaffold.ManifestPath)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if bytes.Equal(old, body) {
		return nil
	}
	return tx.WriteState(scaffold.ManifestPath, body)
}

var stageSeq atomic.Int64

// checkSources refuses a project whose Go sources (or go.mod, go.sum)
// include something other than a regular file of a sane size: a named pipe
// would block the generators and the go command forever, a link to
// /dev/zero or a huge sparse file would exhaust memory. Only what the go
// command would read is checked: directories it ignores and nested
// modules are skipped.
func checkSources(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (projectfs.GoIgnoresDir(name) || fileExists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && rel != "go.mod" && rel != "go.sum" && rel != codegenHeader {
			return nil
		}
		info, err := os.Stat(p)
		if err != nil {
			return &spec.InputError{File: rel, Msg: "cannot be read: " + err.Error()}
		}
		if err := projectfs.CheckRegular(rel, info); err != nil {
			return &spec.InputError{Msg: err.Error()}
		}
		return nil
	})
}

// codegenHeader is the header the generators copy into every generated Go
// file; they read it as a source.
const codegenHeader = "hack/boilerplate.go.txt"

func fileExists(p string) bool { _, err := os.Lstat(p); return err == nil }
