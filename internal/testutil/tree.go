// Package testutil has helpers shared by spgen's tests: reading whole
// directory trees and comparing them.
package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
