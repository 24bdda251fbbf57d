package scaffold

import (
	"fmt"
	"regexp"
	"sort"

	"sigs.k8s.io/yaml"

	"github.com/open-control-plane/spgen/internal/projectfs"
	"github.com/open-control-plane/spgen/internal/spec"
)

// ManifestPath is where the record of written files lives in a project.
const ManifestPath = ".spgen/lock.yaml"

// Manifest records every file spgen wrote: its owner and the hash of exactly what
// spgen wrote, so later runs can tell user edits from spgen's own output.
type Manifest struct {
	// SpgenVersion is the spgen release that wrote the files.
	SpgenVersion string `json:"spgenVersion"`
	// Templates is the template generation the scaffolded files come from.
	Templates string `json:"templates"`
	// Stack is the dependency set go.mod and go.sum come from.
	Stack string `json:"stack"`
	// Files is sorted by path.
	Files []Entry `json:"files"`
}

// Entry is one written file.
type Entry struct {
	Path  string `json:"path"`
	Owner Owner  `json:"owner"`
	Hash  string `json:"hash"`
}

// NewManifest records every file of t.
func NewManifest(t *Tree, spgenVersion, templates, stack string) *Manifest {
	l := &Manifest{SpgenVersion: spgenVersion, Templates: templates, Stack: stack}
	for _, p := range t.Paths() {
		f := t.files[p]
		l.Files = append(l.Files, Entry{Path: p, Owner: f.Owner, Hash: Hash(f.Content)})
	}
	return l
}

// Marshal renders the lock file.
func (l *Manifest) Marshal() ([]byte, error) {
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

// ParseManifest reads and checks a lock file. Everything in it is checked
// before spgen relies on it: an empty, truncated or tampered lock is an
// error, never a fresh start, and no entry may name a path outside the
// project, in .git or in spgen's own state.
func ParseManifest(data []byte) (*Manifest, error) {
	bad := func(format string, args ...any) error {
		return &spec.InputError{File: ManifestPath, Msg: fmt.Sprintf(format, args...)}
	}
	const restore = "; restore it from version control (spgen records there what it wrote, to tell your edits apart)"
	if len(data) == 0 {
		return nil, bad("is empty" + restore)
	}
	if len(data) > MaxLockSize {
		return nil, bad("is %d bytes; at most %d are accepted", len(data), MaxLockSize)
	}
	var l Manifest
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
func (l *Manifest) Entry(path string) (Entry, bool) {
	for _, e := range l.Files {
		if e.Path == path {
			return e, true
		}
	}
	return Entry{}, false
}

// Set records that spgen wrote content to path.
func (l *Manifest) Set(path string, owner Owner, content []byte) {
	e := Entry{Path: path, Owner: owner, Hash: Hash(content)}
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
func (l *Manifest) Delete(path string) {
	out := l.Files[:0]
	for _, e := range l.Files {
		if e.Path != path {
			out = append(out, e)
		}
	}
	l.Files = out
}

// Clone returns a deep copy.
func (l *Manifest) Clone() *Manifest {
	c := *l
	c.Files = append([]Entry(nil), l.Files...)
	return &c
}
