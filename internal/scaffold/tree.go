// Package scaffold is the file engine: an in-memory tree of planned files
// with their owners, a lock file recording what spgen wrote, and an atomic
// commit of a staged tree into the target directory.
package scaffold

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
)

// Owner says who may change a file after spgen wrote it.
type Owner string

const (
	// Generated files are rewritten by spgen on every run; users must not edit them.
	Generated Owner = "generated"
	// Scaffolded files belong to the user after the first write; spgen only
	// ever merges into them.
	Scaffolded Owner = "scaffolded"
)

// File is one planned file.
type File struct {
	Content []byte
	Owner   Owner
}

// Tree is a set of planned files keyed by slash-separated relative path.
type Tree struct {
	files map[string]File
}

// NewTree returns an empty tree.
func NewTree() *Tree { return &Tree{files: map[string]File{}} }

// Add plans a file, replacing any earlier plan for the same path.
func (t *Tree) Add(path string, content []byte, owner Owner) {
	t.files[path] = File{Content: content, Owner: owner}
}

// Get returns the planned file at path.
func (t *Tree) Get(path string) (File, bool) {
	f, ok := t.files[path]
	return f, ok
}

// Paths returns every planned path in sorted order.
func (t *Tree) Paths() []string { return slices.Sorted(maps.Keys(t.files)) }

// Len is the number of planned files.
func (t *Tree) Len() int { return len(t.files) }

// Hash is the content hash recorded in the lock file.
func Hash(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256:" + hex.EncodeToString(sum[:])
}
