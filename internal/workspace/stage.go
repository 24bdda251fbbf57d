package workspace

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/open-control-plane/spgen/internal/abort"
	"github.com/open-control-plane/spgen/internal/projectfs"
)

const stagePrefix = "stage-"

// Scratch is a copy of the project in which a command writes its changes,
// generates code and type-checks before touching the project. Files are
// hard links, so staging costs no copying; writes replace a link instead of
// writing through it, and never follow a symbolic link.
type Scratch struct {
	Dir string

	fs       *projectfs.Dir
	withdraw func()
}

// Scratch copies the project below .spgen (which the go command's ./...
// patterns skip), leaving out version control data and spgen's own state.
func (w *Workspace) Scratch() (*Scratch, error) {
	rel := fmt.Sprintf("%s/%s%d-%d", projectfs.StateDir, stagePrefix, os.Getpid(), stageSeq.Add(1))
	if err := w.fs.MkdirState(rel); err != nil {
		return nil, err
	}
	dir := filepath.Join(w.Dir, filepath.FromSlash(rel))
	s := &Scratch{Dir: dir}
	s.withdraw = abort.Register(func() { abort.RemoveAll(dir) })
	if err := copyTree(w.Dir, dir); err != nil {
		s.Discard()
		return nil, err
	}
	var err error
	if s.fs, err = projectfs.Open(dir); err != nil {
		s.Discard()
		return nil, err
	}
	return s, nil
}

// goCommandWrites are the files the go command rewrites in place (not by
// replacing them) when it runs in the stage: they are copied, so that a
// `go mod tidy` in the stage cannot write through a hard link into the
// project, or into a file outside it that the project's go.mod is linked to.
var goCommandWrites = map[string]bool{"go.mod": true, "go.sum": true, "go.work": true, "go.work.sum": true}

// copyTree hard-links (or copies) every file of the project into dir and
// recreates its symbolic links as links.
func copyTree(root, dir string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() && (rel == ".git" || rel == projectfs.StateDir) {
			return filepath.SkipDir
		}
		target := filepath.Join(dir, rel)
		switch {
		case d.IsDir():
			return os.Mkdir(target, 0o777)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			if !goCommandWrites[d.Name()] {
				if err := os.Link(p, target); err == nil {
					return nil
				}
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o666)
		}
		return nil
	})
}

// Write replaces a staged file (never writing through a hard link).
func (s *Scratch) Write(rel string, content []byte) error {
	return s.fs.WriteFile(rel, content)
}

// Remove deletes a staged file.
func (s *Scratch) Remove(rel string) error {
	return s.fs.Remove(rel)
}

// Apply writes changes into the stage.
func (s *Scratch) Apply(changes []Change) error {
	for _, c := range changes {
		var err error
		if c.New == nil {
			err = s.Remove(c.Path)
		} else {
			err = s.Write(c.Path, c.New)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Discard removes the stage.
func (s *Scratch) Discard() {
	if s.fs != nil {
		s.fs.Close()
	}
	_ = os.RemoveAll(s.Dir)
	if s.withdraw != nil {
		s.withdraw()
	}
}
