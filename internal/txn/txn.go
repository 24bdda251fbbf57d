// Package txn changes many files of a project as one unit. New contents are
// written to a journal inside the project first; a plan file, renamed into
// place in one step, is the commit point. A run killed before that leaves
// the project untouched; a run killed after it is completed by Recover, which
// every spgen command calls (holding the project lock) before it reads the
// project. The project directory itself is never replaced, so shells and
// editors open in it keep working. Every path goes through projectfs, so a
// plan can never write or remove outside the project.
package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-control-plane/spgen/internal/projectfs"
)

// Dir is the journal directory, relative to the project root.
const Dir = projectfs.StateDir + "/txn"

const (
	planFile = Dir + "/plan.json"
	filesDir = Dir + "/files"
	stateDir = Dir + "/state"
)

// plan is what a committed transaction does, in order.
type plan struct {
	Write  []string `json:"write"`
	Remove []string `json:"remove"`
	// State are files of spgen's own state (below .spgen/), such as the
	// lock file, written last.
	State []string `json:"state,omitempty"`
	// RemoveState are files of spgen's state deleted last, such as the
	// record of an unfinished upgrade.
	RemoveState []string `json:"removeState,omitempty"`
}

// maxPlanSize bounds a plan: one line per file of a project.
const maxPlanSize = 8 << 20

// Tx is one transaction on a project.
type Tx struct {
	dir  *projectfs.Dir
	plan plan
}

// afterStep lets tests stop a commit after a given step, as a kill would.
var afterStep = func(int) error { return nil }

// Begin starts a transaction on the project in dir. An unfinished one must
// be recovered first.
func Begin(dir *projectfs.Dir) (*Tx, error) {
	if _, err := os.Lstat(filepath.Join(dir.Path(), filepath.FromSlash(Dir))); err == nil {
		return nil, fmt.Errorf("%s exists: an interrupted spgen run must be completed first", Dir)
	}
	if err := dir.MkdirState(filesDir); err != nil {
		return nil, err
	}
	return &Tx{dir: dir}, nil
}

// Write records the new content of rel.
func (t *Tx) Write(rel string, content []byte) error {
	if err := projectfs.Check(rel); err != nil {
		return err
	}
	if err := t.dir.WriteState(filesDir+"/"+rel, content); err != nil {
		return err
	}
	t.plan.Write = append(t.plan.Write, rel)
	return nil
}

// WriteState records the new content of a file of spgen's state, such as
// .spgen/lock.yaml.
func (t *Tx) WriteState(rel string, content []byte) error {
	if err := checkStateTarget(rel); err != nil {
		return err
	}
	if err := t.dir.WriteState(stateDir+"/"+strings.TrimPrefix(rel, projectfs.StateDir+"/"), content); err != nil {
		return err
	}
	t.plan.State = append(t.plan.State, rel)
	return nil
}

// checkStateTarget refuses state paths inside the journal itself.
func checkStateTarget(rel string) error {
	if err := projectfs.CheckState(rel); err != nil {
		return err
	}
	if rel == Dir || strings.HasPrefix(rel, Dir+"/") {
		return &projectfs.PathError{Path: rel, Rule: "is inside the journal"}
	}
	return nil
}

// Remove records that rel is deleted.
func (t *Tx) Remove(rel string) error {
	if err := projectfs.Check(rel); err != nil {
		return err
	}
	t.plan.Remove = append(t.plan.Remove, rel)
	return nil
}

// RemoveState records that a file of spgen's state is deleted.
func (t *Tx) RemoveState(rel string) error {
	if err := checkStateTarget(rel); err != nil {
		return err
	}
	t.plan.RemoveState = append(t.plan.RemoveState, rel)
	return nil
}

// Abort drops an uncommitted transaction; the project is unchanged.
func (t *Tx) Abort() { _ = os.RemoveAll(filepath.Join(t.dir.Path(), filepath.FromSlash(Dir))) }

// Commit makes the transaction durable, then applies it.
func (t *Tx) Commit() error {
	body, err := json.Marshal(t.plan)
	if err != nil {
		return err
	}
	// Journal contents must be on disk before the plan that refers to them.
	syncTree(filepath.Join(t.dir.Path(), filepath.FromSlash(filesDir)))
	if err := t.dir.WriteState(planFile+".tmp", body); err != nil {
		t.Abort()
		return err
	}
	syncFile(filepath.Join(t.dir.Path(), filepath.FromSlash(planFile+".tmp")))
	if err := afterStep(0); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(t.dir.Path(), filepath.FromSlash(planFile+".tmp")), filepath.Join(t.dir.Path(), filepath.FromSlash(planFile))); err != nil {
		t.Abort()
		return err
	}
	syncFile(filepath.Join(t.dir.Path(), filepath.FromSlash(Dir)))
	if err := apply(t.dir, t.plan); err != nil {
		return fmt.Errorf("%w\nthe change is recorded in %s: the next spgen command on this project completes it", err, Dir)
	}
	return nil
}

// Recover completes a committed transaction left by an interrupted run and
// drops an uncommitted one. It reports whether there was anything to do.
func Recover(dir *projectfs.Dir) (bool, error) {
	p, err := Pending(dir)
	if err != nil || p != nil {
		return p != nil, errors.Join(err, p.Apply())
	}
	journal := filepath.Join(dir.Path(), filepath.FromSlash(Dir))
	if _, err := os.Lstat(journal); err != nil {
		return false, nil
	}
	return true, os.RemoveAll(journal)
}

// Interrupted is a committed transaction an interrupted run left behind,
// checked whole and not yet applied.
type Interrupted struct {
	dir  *projectfs.Dir
	plan plan
}

// Pending returns the committed transaction an interrupted run left, or
// nil when there is none. The plan is checked whole before anything is
// applied: every path must follow the project's rules and every journal
// copy must be a regular file of spgen's, so a damaged or planted journal
// is refused without a single change.
func Pending(dir *projectfs.Dir) (*Interrupted, error) {
	path := filepath.Join(dir.Path(), filepath.FromSlash(planFile))
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Never open what could block or exhaust memory: the plan is a small
	// regular file spgen wrote.
	if !info.Mode().IsRegular() || info.Size() > maxPlanSize {
		return nil, damaged(fmt.Errorf("is not a regular file of at most %d bytes", maxPlanSize))
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p plan
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, damaged(err)
	}
	if err := check(dir, p); err != nil {
		return nil, damaged(err)
	}
	return &Interrupted{dir: dir, plan: p}, nil
}

// DamagedError is a journal spgen refuses to apply.
type DamagedError struct{ Err error }

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s: %v; the journal of an interrupted spgen run is damaged and nothing of it was applied: inspect it, then remove %s to discard it", planFile, e.Err, Dir)
}

func (e *DamagedError) Unwrap() error { return e.Err }

func damaged(err error) error { return &DamagedError{Err: err} }

// check verifies a whole plan before any of it is applied.
func check(dir *projectfs.Dir, p plan) error {
	for _, rel := range p.Write {
		if err := dir.CheckReachable(rel); err != nil {
			return err
		}
		if err := journalCopy(dir, filesDir+"/"+rel); err != nil {
			return err
		}
	}
	for _, rel := range p.Remove {
		if err := dir.CheckReachable(rel); err != nil {
			return err
		}
	}
	for _, rel := range p.State {
		if err := checkStateTarget(rel); err != nil {
			return err
		}
		if err := journalCopy(dir, stateDir+"/"+strings.TrimPrefix(rel, projectfs.StateDir+"/")); err != nil {
			return err
		}
	}
	for _, rel := range p.RemoveState {
		if err := checkStateTarget(rel); err != nil {
			return err
		}
	}
	return nil
}

// journalCopy checks the journal's copy of a file, if it is still there (a
// copy already moved into place is gone): a regular file, not a link or a
// directory, and not reached through one.
func journalCopy(dir *projectfs.Dir, rel string) error {
	if err := projectfs.CheckState(rel); err != nil {
		return err
	}
	info, err := os.Lstat(filepath.Join(dir.Path(), filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return &projectfs.PathError{Path: rel, Rule: "is not a regular file"}
	}
	return nil
}

// Writes reports whether the interrupted transaction writes rel, and the
// content it writes.
func (t *Interrupted) Writes(rel string) ([]byte, bool) {
	src := filesDir + "/" + rel
	if rel == projectfs.StateDir || strings.HasPrefix(rel, projectfs.StateDir+"/") {
		if !slices.Contains(t.plan.State, rel) {
			return nil, false
		}
		src = stateDir + "/" + strings.TrimPrefix(rel, projectfs.StateDir+"/")
	} else if !slices.Contains(t.plan.Write, rel) {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(t.dir.Path(), filepath.FromSlash(src)))
	return b, err == nil
}

// Apply completes the interrupted transaction.
func (t *Interrupted) Apply() error {
	if t == nil {
		return nil
	}
	return apply(t.dir, t.plan)
}

// apply is idempotent: a file already moved has no journal copy left, and
// removing a missing file is not an error.
func apply(dir *projectfs.Dir, p plan) error {
	step := 1
	for _, rel := range p.Write {
		src := filesDir + "/" + rel
		if err := projectfs.Check(rel); err != nil {
			return fmt.Errorf("%s: %w", planFile, err)
		}
		if _, err := os.Lstat(filepath.Join(dir.Path(), filepath.FromSlash(src))); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := dir.Rename(src, rel); err != nil {
			return fmt.Errorf("writing %s: %w", rel, err)
		}
		if err := afterStep(step); err != nil {
			return err
		}
		step++
	}
	for _, rel := range p.Remove {
		if err := dir.Remove(rel); err != nil {
			return fmt.Errorf("removing %s: %w", rel, err)
		}
		if err := afterStep(step); err != nil {
			return err
		}
		step++
	}
	for _, rel := range p.State {
		if err := checkStateTarget(rel); err != nil {
			return fmt.Errorf("%s: %w", planFile, err)
		}
		src := stateDir + "/" + strings.TrimPrefix(rel, projectfs.StateDir+"/")
		if _, err := os.Lstat(filepath.Join(dir.Path(), filepath.FromSlash(src))); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := dir.RenameState(src, rel); err != nil {
			return fmt.Errorf("writing %s: %w", rel, err)
		}
	}
	for _, rel := range p.RemoveState {
		if err := checkStateTarget(rel); err != nil {
			return fmt.Errorf("%s: %w", planFile, err)
		}
		if err := dir.RemoveState(rel); err != nil {
			return fmt.Errorf("removing %s: %w", rel, err)
		}
	}
	return os.RemoveAll(filepath.Join(dir.Path(), filepath.FromSlash(Dir)))
}

func syncFile(path string) {
	if f, err := os.Open(path); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// syncTree flushes every file below dir.
func syncTree(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			syncFile(p)
		}
		return nil
	})
}
