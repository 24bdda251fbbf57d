package scaffold

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/open-control-plane/spgen/internal/abort"
	"github.com/open-control-plane/spgen/internal/projectfs"
)

// Stage is a directory holding a complete copy of the future target tree.
// It lives next to the target, on the same file system, so that moving it
// into place is a rename.
type Stage struct {
	Dir    string
	target string

	fs       *projectfs.Dir
	withdraw func()
}

// NewStage creates an empty staging directory for target. With temp it lives
// in the system temp directory instead (for runs that never commit). The
// directory gets the permissions the user's umask gives new directories:
// it becomes the project.
func NewStage(target string, temp bool) (*Stage, error) {
	abs, err := filepath.Abs(target)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(abs)
	if temp {
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
	s := &Stage{Dir: dir, target: abs}
	s.withdraw = abort.Register(func() { _ = os.RemoveAll(dir) })
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
func (s *Stage) Write(t *Tree) error {
	for _, p := range t.Paths() {
		if err := s.WriteFile(p, t.files[p].Content); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes one file into the stage.
func (s *Stage) WriteFile(rel string, content []byte) error {
	if rel == LockPath {
		return s.fs.WriteState(rel, content)
	}
	return s.fs.WriteFile(rel, content)
}

// Discard removes the stage. It is safe to call after Commit.
func (s *Stage) Discard() {
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

// Commit moves the stage into place as the target directory. Files of an
// existing target that the stage does not contain are kept. The target is
// replaced in one rename (an exchange of the two directories where the
// platform supports it), so an interrupted commit leaves the old or the new
// tree, never a mix.
func (s *Stage) Commit() error {
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
	if err := os.Chmod(s.Dir, info.Mode().Perm()); err != nil {
		return err
	}
	if err := linkMissing(s.target, s.Dir); err != nil {
		return fmt.Errorf("carrying over existing files: %w", err)
	}
	if err := exchange(s.Dir, s.target); err != nil {
		return fmt.Errorf("moving project into place: %w", err)
	}
	// After the exchange the stage path holds the old tree.
	return os.RemoveAll(s.Dir)
}

// linkMissing hard-links (or copies) every file of src that dst lacks.
func linkMissing(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.MkdirAll(target, info.Mode().Perm())
		}
		if _, err := os.Lstat(target); err == nil {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		if err := os.Link(p, target); err == nil {
			return nil
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
