package workspace

import (
	"io/fs"
	"os"
	"path/filepath"
)

const stagePrefix = "stage-"

// Stage is a copy of the project in which a command writes its changes,
// generates code and type-checks before touching the project. Files are
// hard links, so staging costs no copying; writes replace a link instead of
// writing through it.
type Stage struct {
	Dir string
}

// Stage copies the project below .spgen (which the go command's ./...
// patterns skip), leaving out version control data and spgen's own state.
func (w *Workspace) Stage() (*Stage, error) {
	parent := filepath.Join(w.Dir, ".spgen")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, stagePrefix)
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(w.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(w.Dir, p)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() && (rel == ".git" || rel == ".spgen") {
			return filepath.SkipDir
		}
		target := filepath.Join(dir, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			if err := os.Link(p, target); err == nil {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
		return nil
	})
	s := &Stage{Dir: dir}
	if err != nil {
		s.Discard()
		return nil, err
	}
	return s, nil
}

// Write replaces a staged file (never writing through a hard link).
func (s *Stage) Write(rel string, content []byte) error {
	full := filepath.Join(s.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	if err := os.Remove(full); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(full, content, 0o644)
}

// Remove deletes a staged file.
func (s *Stage) Remove(rel string) error {
	err := os.Remove(filepath.Join(s.Dir, filepath.FromSlash(rel)))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// Apply writes changes into the stage.
func (s *Stage) Apply(changes []Change) error {
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
func (s *Stage) Discard() { _ = os.RemoveAll(s.Dir) }
