// Package workspace is an existing spgen project on disk: its spgen.yaml and
// lock file, a staged copy to generate and type-check in, and the changes a
// command wants to make, shown as diffs or applied as one transaction.
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

	"github.com/aymanbagabas/go-udiff"

	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/txn"
)

// Workspace is an open spgen project.
type Workspace struct {
	Dir     string
	Project *spec.Project
	Lock    *scaffold.Lock
	// Recovered reports that Open completed an interrupted earlier run.
	Recovered bool
}

// Open finishes any interrupted transaction, then reads spgen.yaml and the
// lock file of the project in dir.
func Open(dir string) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
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
	if _, err := os.Stat(filepath.Join(abs, spec.FileName)); err != nil {
		return nil, &spec.InputError{Flag: "--dir", Value: dir, Msg: "is not a spgen project: no " + spec.FileName + " (create one with spgen init)"}
	}
	recovered, err := txn.Recover(abs)
	if err != nil {
		return nil, fmt.Errorf("completing an interrupted spgen run: %w", err)
	}
	// A run killed while staging leaves its stage behind; it holds nothing
	// the project needs.
	if stale, _ := filepath.Glob(filepath.Join(abs, ".spgen", stagePrefix+"*")); len(stale) > 0 {
		for _, d := range stale {
			_ = os.RemoveAll(d)
		}
	}
	p, err := spec.Load(abs)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(abs, filepath.FromSlash(scaffold.LockPath)))
	if err != nil {
		return nil, &spec.InputError{Msg: fmt.Sprintf("%s: %v (spgen records what it wrote there; without it user edits cannot be told apart)", scaffold.LockPath, err)}
	}
	lock, err := scaffold.ParseLock(raw)
	if err != nil {
		return nil, &spec.InputError{Msg: err.Error()}
	}
	return &Workspace{Dir: abs, Project: p, Lock: lock, Recovered: recovered}, nil
}

// Read returns the content of a project file, or nil when it does not exist.
func (w *Workspace) Read(rel string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(w.Dir, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
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

// Apply writes the changes and the new lock file as one transaction.
func (w *Workspace) Apply(changes []Change, lock *scaffold.Lock) error {
	tx, err := txn.Begin(w.Dir)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if c.New == nil {
			tx.Remove(c.Path)
			continue
		}
		if err := tx.Write(c.Path, c.New); err != nil {
			tx.Abort()
			return err
		}
	}
	if lock != nil {
		body, err := lock.Marshal()
		if err != nil {
			tx.Abort()
			return err
		}
		if old, _ := w.Read(scaffold.LockPath); !bytes.Equal(old, body) {
			if err := tx.Write(scaffold.LockPath, body); err != nil {
				tx.Abort()
				return err
			}
		}
	}
	return tx.Commit()
}
