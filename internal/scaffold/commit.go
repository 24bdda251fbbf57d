package scaffold

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Stage is a directory holding a complete copy of the future target tree.
// It lives next to the target, on the same file system, so that moving it
// into place is a rename.
type Stage struct {
	Dir    string
	target string
}

// NewStage creates an empty staging directory for target. With temp it lives
// in the system temp directory instead (for runs that never commit).
func NewStage(target string, temp bool) (*Stage, error) {
	abs, err := filepath.Abs(target)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(abs)
	if temp {
		parent = ""
	} else if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".spgen-")
	if err != nil {
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	return &Stage{Dir: dir, target: abs}, nil
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
	full := filepath.Join(s.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, content, 0o644)
}

// Discard removes the stage. It is safe to call after Commit.
func (s *Stage) Discard() {
	if s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
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
