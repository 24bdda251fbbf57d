package scaffold

import (
	"fmt"
	"sort"

	"sigs.k8s.io/yaml"
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

// ParseLock reads a lock file.
func ParseLock(data []byte) (*Lock, error) {
	var l Lock
	if err := yaml.UnmarshalStrict(data, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", LockPath, err)
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
