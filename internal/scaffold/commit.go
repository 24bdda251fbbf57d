package scaffold

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/open-control-plane/spgen/internal/abort"
	"github.com/open-control-plane/spgen/internal/flock"
	"github.com/open-control-plane/spgen/internal/projectfs"
	"github.com/open-control-plane/spgen/internal/txn"
)

// Draft is a directory holding a complete copy of the future target tree.
// For a target that does not exist yet it lives next to the target, on the
// same file system, so that moving it into place is a rename; otherwise in
// the temporary directory.
type Draft struct {
	Dir    string
	target string

	fs       *projectfs.Dir
	withdraw func()
}

// NewDraft creates an empty staging directory for target. With temp it lives
// in the system temp directory instead (for runs that never commit). The
// directory gets the permissions the user's umask gives new directories:
// it becomes the project.
func NewDraft(target string, temp bool) (*Draft, error) {
	abs, err := filepath.Abs(target)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(abs)
	if info, err := os.Stat(abs); temp || (err == nil && info.IsDir()) {
		// A stage that is never renamed into place (a dry run, or an
		// existing target, which gets the files one by one) lives outside
		// the target's parent: spgen writes nothing beside the project.
		parent = os.TempDir()
	} else if err := os.MkdirAll(parent, 0o777); err != nil {
		return nil, fmt.Errorf("creating %s: %w", parent, err)
	}
	prefix := "." + filepath.Base(abs) + ".spgen-"
	removeStale(parent, prefix)
	random := make([]byte, 4)
	if _, err := rand.Read(random); err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, prefix+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(random))
	if err := os.Mkdir(dir, 0o777); err != nil {
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	s := &Draft{Dir: dir, target: abs}
	s.withdraw = abort.Register(func() { abort.RemoveAll(dir) })
	if s.fs, err = projectfs.Open(dir); err != nil {
		s.Discard()
		return nil, err
	}
	return s, nil
}

// removeStale removes stages of runs that were killed: their names carry
// the process ID of the run, which no longer exists.
func removeStale(parent, prefix string) {
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(parent, e.Name()))
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Write writes every file of t into the stage.
func (s *Draft) Write(t *Tree) error {
	for _, p := range t.Paths() {
		if err := s.WriteFile(p, t.files[p].Content); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes one file into the stage.
func (s *Draft) WriteFile(rel string, content []byte) error {
	if rel == ManifestPath {
		return s.fs.WriteState(rel, content)
	}
	return s.fs.WriteFile(rel, content)
}

// Discard removes the stage. It is safe to call after Commit.
func (s *Draft) Discard() {
	if s.fs != nil {
		s.fs.Close()
		s.fs = nil
	}
	if s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
	if s.withdraw != nil {
		s.withdraw()
	}
}

// Commit moves the stage into place as the target directory. A target that
// does not exist yet is the stage, renamed into place in one step. An
// existing one (the current directory, a link to a directory, a mount point)
// is never replaced: the staged files are moved into it as one journaled
// transaction of the project (see package txn), so an interrupted commit is
// completed by the next spgen command, and files the stage does not contain
// are kept.
func (s *Draft) Commit() error {
	info, err := os.Stat(s.target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.fs.Close()
		s.fs = nil
		if err := os.Rename(s.Dir, s.target); err != nil {
			return fmt.Errorf("moving project into place: %w", err)
		}
		s.Dir = ""
		return nil
	case err != nil:
		return err
	case !info.IsDir():
		return fmt.Errorf("%s is not a directory", s.target)
	}
	return s.commitInto()
}

// commitInto moves the staged files into the existing target directory,
// under the project lock.
func (s *Draft) commitInto() error {
	target, err := projectfs.Open(s.target)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := target.MkdirState(projectfs.StateDir); err != nil {
		return err
	}
	held, err := flock.Acquire(filepath.Join(s.target, projectfs.StateDir), lockWait, nil)
	if err != nil {
		return err
	}
	defer held.Release()
	if _, err := txn.Recover(target); err != nil {
		return fmt.Errorf("completing an interrupted spgen run: %w", err)
	}
	tx, err := txn.Begin(target)
	if err != nil {
		return err
	}
	if err := s.journal(tx); err != nil {
		tx.Abort()
		return err
	}
	return tx.Commit()
}

// lockWait is how long a commit into an existing directory waits for
// another spgen command working there.
const lockWait = 20 * time.Second

// journal records every staged file in tx.
func (s *Draft) journal(tx *txn.Tx) error {
	return filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(s.Dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, projectfs.StateDir+"/") {
			return tx.WriteState(rel, content)
		}
		return tx.Write(rel, content)
	})
}
