package scaffold

import (
	"fmt"
	"regexp"
	"sort"

	"sigs.k8s.io/yaml"

	"github.com/open-control-plane/spgen/internal/projectfs"
	"github.com/open-control-plane/spgen/internal/spec"
)

// LockPath is where the record of written files lives in a project.
const LockPath = ".spgen/lock.yaml"

// Lock records every file spgen wrote: its owner and the hash of exactly what
// spgen wrote, so later runs can tell user edits from spgen's own output.
type Lock struct {
	// SpgenVersion is the spgen release that wrote the files.
	SpgenVersion string `json:"spgenVersion"`
	// Templates is the template generation the scaffolded files come from.
	Templates string `json:"templates"`
	// Stack is the dependency set go.mod and go.sum come from.
	Stack string `json:"stack"`
	// Files is sorted by path.
	Files []LockEntry `json:"files"`
}

// LockEntry is one written file.
type LockEntry struct {
	Path  string `json:"path"`
	Owner Owner  `json:"owner"`
	Hash  string `json:"hash"`
}

// NewLock records every file of t.
func NewLock(t *Tree, spgenVersion, templates, stack string) *Lock {
	l := &Lock{SpgenVersion: spgenVersion, Templates: templates, Stack: stack}
	for _, p := range t.Paths() {
		f := t.files[p]
		l.Files = append(l.Files, LockEntry{Path: p, Owner: f.Owner, Hash: Hash(f.Content)})
	}
	return l
}

// Marshal renders the lock file.
func (l *Lock) Marshal() ([]byte, error) {
	body, err := yaml.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encoding lock file: %w", err)
	}
	return append([]byte("# Written by spgen: what it wrote and who owns each file. Do not edit.\n"), body...), nil
}

// Limits of a lock file, far above any real project's.
const (
	MaxLockSize    = 8 << 20
	MaxLockEntries = 20000
)

var hashRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ParseLock reads and checks a lock file. Everything in it is checked
// before spgen relies on it: an empty, truncated or tampered lock is an
// error, never a fresh start, and no entry may name a path outside the
// project, in .git or in spgen's own state.
func ParseLock(data []byte) (*Lock, error) {
	bad := func(format string, args ...any) error {
		return &spec.InputError{File: LockPath, Msg: fmt.Sprintf(format, args...)}
	}
	const restore = "; restore it from version control (spgen records there what it wrote, to tell your edits apart)"
	if len(data) == 0 {
		return nil, bad("is empty" + restore)
	}
	if len(data) > MaxLockSize {
		return nil, bad("is %d bytes; at most %d are accepted", len(data), MaxLockSize)
	}
	var l Lock
	if err := yaml.UnmarshalStrict(data, &l); err != nil {
		return nil, bad("is not a valid lock file (truncated or edited?): %v%s", err, restore)
	}
	// templates sorts last in the file: a lock cut short loses it.
	for field, v := range map[string]string{"templates": l.Templates, "stack": l.Stack, "spgenVersion": l.SpgenVersion} {
		if v == "" {
			return nil, bad("has no %s: it is incomplete or truncated%s", field, restore)
		}
	}
	if len(l.Files) > MaxLockEntries {
		return nil, bad("records %d files; at most %d are accepted", len(l.Files), MaxLockEntries)
	}
	seen := map[string]bool{}
	for _, e := range l.Files {
		if err := projectfs.Check(e.Path); err != nil {
			return nil, bad("entry %v", err)
		}
		if seen[e.Path] {
			return nil, bad("records %q twice", e.Path)
		}
		seen[e.Path] = true
		if e.Owner != Generated && e.Owner != Scaffolded {
			return nil, bad("entry %q: owner %q is neither %s nor %s", e.Path, e.Owner, Generated, Scaffolded)
		}
		if !hashRE.MatchString(e.Hash) {
			return nil, bad("entry %q: hash %q is not sha256:<64 hex digits>", e.Path, e.Hash)
		}
	}
	if !seen[spec.FileName] {
		return nil, bad("does not record %s: it is incomplete or truncated%s", spec.FileName, restore)
	}
	return &l, nil
}

// Entry returns the record of path.
func (l *Lock) Entry(path string) (LockEntry, bool) {
	for _, e := range l.Files {
		if e.Path == path {
			return e, true
		}
	}
	return LockEntry{}, false
}

// Set records that spgen wrote content to path.
func (l *Lock) Set(path string, owner Owner, content []byte) {
	e := LockEntry{Path: path, Owner: owner, Hash: Hash(content)}
	for i := range l.Files {
		if l.Files[i].Path == path {
			l.Files[i] = e
			return
		}
	}
	l.Files = append(l.Files, e)
	sort.Slice(l.Files, func(i, j int) bool { return l.Files[i].Path < l.Files[j].Path })
}

// Delete forgets path.
func (l *Lock) Delete(path string) {
	out := l.Files[:0]
	for _, e := range l.Files {
		if e.Path != path {
			out = append(out, e)
		}
	}
	l.Files = out
}

// Clone returns a deep copy.
func (l *Lock) Clone() *Lock {
	c := *l
	c.Files = append([]LockEntry(nil), l.Files...)
	return &c
}
