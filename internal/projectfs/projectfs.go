// Package projectfs is the one place spgen writes to and removes from a
// project (or a staged copy of one). Every path is checked before it is
// used: relative, clean, inside the directory, outside version control and
// spgen's own state, and never reached through a symbolic link. The
// operations themselves go through an os.Root, so not even a link created
// between the check and the write can lead outside the directory.
package projectfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
)

// StateDir holds spgen's own state inside a project.
const StateDir = ".spgen"

// reserved are top-level names no project path may enter: version control
// and spgen's state, which spgen manages through their own code paths.
var reserved = []string{".git", StateDir}

// MaxPathLen bounds a project path; longer ones cannot be real.
const MaxPathLen = 1024

// PathError is a path spgen refuses to touch, with the rule it breaks.
type PathError struct {
	Path string
	Rule string
}

func (e *PathError) Error() string { return fmt.Sprintf("path %q %s", e.Path, e.Rule) }

// Check applies the rules every project path must follow, on the path
// alone: slash-separated, relative, clean, inside the project and outside
// .git and .spgen.
func Check(rel string) error {
	bad := func(rule string) error { return &PathError{Path: rel, Rule: rule} }
	switch {
	case rel == "":
		return bad("is empty")
	case len(rel) > MaxPathLen:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxPathLen))
	case strings.ContainsRune(rel, '\\'):
		return bad("must use forward slashes")
	case strings.IndexFunc(rel, unicode.IsControl) >= 0:
		return bad("must not contain control characters (newlines, tabs, NUL bytes)")
	case path.IsAbs(rel) || (len(rel) >= 2 && rel[1] == ':'):
		return bad("must be relative to the project")
	case path.Clean(rel) != rel || rel == ".":
		return bad("must be clean (no ., .. or doubled slashes)")
	case strings.HasPrefix(rel, "../"):
		return bad("leaves the project")
	}
	top, _, _ := strings.Cut(rel, "/")
	for _, r := range reserved {
		if strings.EqualFold(top, r) {
			return bad("is inside " + r + "/, which spgen never writes to")
		}
	}
	for _, seg := range strings.Split(rel, "/") {
		if strings.EqualFold(seg, ".git") {
			return bad("is inside a .git directory, which spgen never writes to")
		}
	}
	return nil
}

// Resolve is the one place that decides which directory a --dir names: the
// path made absolute, with every symbolic link on the way resolved where
// the path exists. A project reached through a link is the directory the
// link points to; walking, staging or fingerprinting the link itself would
// see no files, and replacing it would lose the link.
func Resolve(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return abs, nil // a directory init is about to create
	}
	return resolved, err
}

// GoIgnoresDir reports whether the go command's ./... patterns skip a
// directory of this name: hidden ones, those starting with an underscore,
// and testdata. Walks that must see what the go command reads use it.
func GoIgnoresDir(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata"
}

// Dir is a directory spgen writes into: a project or a staged copy of one.
type Dir struct {
	root *os.Root
	path string
}

// Open opens dir for confined access.
func Open(dir string) (*Dir, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{root: root, path: dir}, nil
}

// Close releases the directory handle.
func (d *Dir) Close() error { return d.root.Close() }

// Path is the directory's path as it was opened.
func (d *Dir) Path() string { return d.path }

// CheckReachable verifies that no existing component of rel (the file
// itself included) is a symbolic link, after Check.
func (d *Dir) CheckReachable(rel string) error {
	if err := Check(rel); err != nil {
		return err
	}
	return d.noLinks(rel)
}

func (d *Dir) noLinks(rel string) error {
	parts := strings.Split(rel, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		info, err := d.root.Lstat(prefix)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if prefix == rel {
				return &PathError{Path: rel, Rule: "is a symbolic link; spgen never writes through links"}
			}
			return &PathError{Path: rel, Rule: "is reached through the symbolic link " + prefix + "; spgen never writes through links (make " + prefix + " a directory)"}
		}
		if i < len(parts)-1 && !info.IsDir() {
			return &PathError{Path: rel, Rule: "is below " + prefix + ", which is not a directory"}
		}
	}
	return nil
}

// MaxFileSize bounds every project file spgen reads: no source, manifest
// or generated file of a provider comes near it, and reading a larger one
// (a sparse file, a link to a device) would only exhaust the machine.
const MaxFileSize = 16 << 20

// ReadFile returns the content of rel, or nil when it does not exist. Only
// regular files of at most MaxFileSize bytes are read: the file is opened
// without blocking (a named pipe in its place would otherwise wait for a
// writer forever) and checked before a byte is read.
func (d *Dir) ReadFile(rel string) ([]byte, error) {
	if err := d.CheckReachable(rel); err != nil {
		return nil, err
	}
	f, err := d.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := CheckRegular(rel, info); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(b) > MaxFileSize {
		return nil, &PathError{Path: rel, Rule: fmt.Sprintf("grew beyond %d bytes while being read", MaxFileSize)}
	}
	return b, err
}

// CheckRegular refuses what spgen never reads or replaces: anything but a
// regular file (a directory, a named pipe, a socket, a device) and files
// larger than MaxFileSize.
func CheckRegular(rel string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return &PathError{Path: rel, Rule: "is " + describeMode(info.Mode()) + ", not a regular file; spgen reads and writes only regular files (replace it with one, or remove it)"}
	}
	if info.Size() > MaxFileSize {
		return &PathError{Path: rel, Rule: fmt.Sprintf("is %d bytes; spgen reads files of at most %d bytes", info.Size(), MaxFileSize)}
	}
	return nil
}

// describeMode names a file type for messages.
func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

// WriteFile replaces rel with content. A file that exists is replaced, not
// written through: a hard link to it elsewhere keeps its old content.
func (d *Dir) WriteFile(rel string, content []byte) error {
	if err := d.CheckReachable(rel); err != nil {
		return err
	}
	return d.writeFile(rel, content)
}

func (d *Dir) writeFile(rel string, content []byte) error {
	if err := d.mkdirParents(rel); err != nil {
		return err
	}
	if err := d.root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return d.root.WriteFile(rel, content, 0o666)
}

// mkdirParents creates the parent directories of rel with the permissions
// the user's umask gives new directories.
func (d *Dir) mkdirParents(rel string) error {
	if dir := path.Dir(rel); dir != "." {
		return d.root.MkdirAll(dir, 0o777)
	}
	return nil
}

// Remove deletes rel, if it exists, and then every parent directory the
// removal left empty.
func (d *Dir) Remove(rel string) error {
	if err := d.CheckReachable(rel); err != nil {
		return err
	}
	if err := d.root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
		if d.root.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// Rename moves rel into place from a path below dir's state directory
// (where the journal keeps new contents). The destination follows every
// project rule; the source must be spgen's own.
func (d *Dir) Rename(stateRel, rel string) error {
	if err := d.CheckReachable(rel); err != nil {
		return err
	}
	if err := CheckState(stateRel); err != nil {
		return err
	}
	if err := d.mkdirParents(rel); err != nil {
		return err
	}
	return d.root.Rename(stateRel, rel)
}

// CheckState checks a path of spgen's own state: clean, below .spgen/ and
// not reached through links is checked when used.
func CheckState(rel string) error {
	if !strings.HasPrefix(rel, StateDir+"/") || path.Clean(rel) != rel || strings.Contains(rel, "/../") || strings.ContainsAny(rel, "\\\x00") {
		return &PathError{Path: rel, Rule: "is not a path of spgen's state in " + StateDir + "/"}
	}
	return nil
}

// WriteState writes a file of spgen's own state (below .spgen/).
func (d *Dir) WriteState(rel string, content []byte) error {
	if err := CheckState(rel); err != nil {
		return err
	}
	if err := d.noLinks(rel); err != nil {
		return err
	}
	return d.writeFile(rel, content)
}

// MkdirState creates a directory of spgen's own state (below .spgen/).
func (d *Dir) MkdirState(rel string) error {
	if err := CheckState(rel + "/x"); err != nil {
		return err
	}
	if err := d.noLinks(rel); err != nil {
		return err
	}
	return d.root.MkdirAll(rel, 0o777)
}

// RenameState moves one file of spgen's state to another path of its state.
func (d *Dir) RenameState(from, to string) error {
	for _, p := range []string{from, to} {
		if err := CheckState(p); err != nil {
			return err
		}
		if err := d.noLinks(p); err != nil {
			return err
		}
	}
	if err := d.mkdirParents(to); err != nil {
		return err
	}
	return d.root.Rename(from, to)
}

// RemoveState deletes a file of spgen's state, if it exists.
func (d *Dir) RemoveState(rel string) error {
	if err := CheckState(rel); err != nil {
		return err
	}
	if err := d.noLinks(rel); err != nil {
		return err
	}
	if err := d.root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
