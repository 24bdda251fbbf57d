// Package testutil has helpers shared by spgen's tests: reading whole
// directory trees and comparing them.
package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// ReadTree returns every regular file below dir by slash-separated path.
func ReadTree(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	return out, err
}

// WriteTree writes files (by slash-separated path) below dir.
func WriteTree(dir string, files map[string][]byte) error {
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// GoldenRoot is the golden projects' directory, seen from a package's tests
// (every package sits two levels below the repository's root).
const GoldenRoot = "../../golden"

// GoldenNames are the golden projects, one per case of TestGolden in
// internal/cli, which writes them.
func GoldenNames(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(GoldenRoot)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// DiffTrees describes how got differs from want: missing, extra and changed
// files. It returns "" when they are identical.
func DiffTrees(want, got map[string][]byte) string {
	var lines []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			lines = append(lines, "missing: "+p)
		case string(g) != string(w):
			lines = append(lines, "changed: "+p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "extra:   "+p)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
