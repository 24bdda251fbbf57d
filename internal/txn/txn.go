// Package txn changes many files of a project as one unit. New contents are
// written to a journal inside the project first; a plan file, renamed into
// place in one step, is the commit point. A run killed before that leaves
// the project untouched; a run killed after it is completed by Recover, which
// every spgen command calls before it reads the project. The project
// directory itself is never replaced, so shells and editors open in it keep
// working.
package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir is the journal directory, relative to the project root.
const Dir = ".spgen/txn"

const (
	planFile = "plan.json"
	filesDir = "files"
)

// plan is what a committed transaction does, in order.
type plan struct {
	Write  []string `json:"write"`
	Remove []string `json:"remove"`
}

// Tx is one transaction on the project at root.
type Tx struct {
	root, dir string
	plan      plan
}

// afterStep lets tests stop a commit after a given step, as a kill would.
var afterStep = func(int) error { return nil }

// Begin starts a transaction. An unfinished one must be recovered first.
func Begin(root string) (*Tx, error) {
	dir := filepath.Join(root, filepath.FromSlash(Dir))
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("%s exists: another spgen run is in progress or was interrupted", Dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, filesDir), 0o755); err != nil {
		return nil, err
	}
	return &Tx{root: root, dir: dir}, nil
}

// Write records the new content of rel.
func (t *Tx) Write(rel string, content []byte) error {
	full := filepath.Join(t.dir, filesDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	if err := writeSync(full, content); err != nil {
		return err
	}
	t.plan.Write = append(t.plan.Write, rel)
	return nil
}

// Remove records that rel is deleted.
func (t *Tx) Remove(rel string) { t.plan.Remove = append(t.plan.Remove, rel) }

// Abort drops an uncommitted transaction; the project is unchanged.
func (t *Tx) Abort() { _ = os.RemoveAll(t.dir) }

// Commit makes the transaction durable, then applies it.
func (t *Tx) Commit() error {
	body, err := json.Marshal(t.plan)
	if err != nil {
		return err
	}
	tmp := filepath.Join(t.dir, planFile+".tmp")
	if err := writeSync(tmp, body); err != nil {
		t.Abort()
		return err
	}
	if err := afterStep(0); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(t.dir, planFile)); err != nil {
		t.Abort()
		return err
	}
	syncDir(t.dir)
	return apply(t.root, t.dir, t.plan)
}

// Recover completes a committed transaction left by an interrupted run and
// drops an uncommitted one. It reports whether there was anything to do.
func Recover(root string) (bool, error) {
	dir := filepath.Join(root, filepath.FromSlash(Dir))
	body, err := os.ReadFile(filepath.Join(dir, planFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(dir); err != nil {
			return false, nil
		}
		return true, os.RemoveAll(dir)
	}
	if err != nil {
		return false, err
	}
	var p plan
	if err := json.Unmarshal(body, &p); err != nil {
		return false, fmt.Errorf("%s/%s: %w", Dir, planFile, err)
	}
	return true, apply(root, dir, p)
}

// apply is idempotent: a file already moved has no journal copy left, and
// removing a missing file is not an error.
func apply(root, dir string, p plan) error {
	step := 1
	for _, rel := range p.Write {
		if err := checkRel(rel); err != nil {
			return err
		}
		src := filepath.Join(dir, filesDir, filepath.FromSlash(rel))
		dst := filepath.Join(root, filepath.FromSlash(rel))
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("writing %s: %w", rel, err)
		}
		if err := afterStep(step); err != nil {
			return err
		}
		step++
	}
	for _, rel := range p.Remove {
		if err := checkRel(rel); err != nil {
			return err
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", rel, err)
		}
		removeEmptyParents(root, filepath.Dir(full))
		if err := afterStep(step); err != nil {
			return err
		}
		step++
	}
	return os.RemoveAll(dir)
}

// checkRel refuses paths that would leave the project, whatever wrote the plan.
func checkRel(rel string) error {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return fmt.Errorf("%s: path %q leaves the project", Dir, rel)
	}
	return nil
}

func removeEmptyParents(root, dir string) {
	for dir != root && strings.HasPrefix(dir, root) {
		if err := os.Remove(dir); err != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

func writeSync(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
