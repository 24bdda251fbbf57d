package typecheck

import (
	"fmt"
	"go/build"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/open-control-plane/spgen/internal/projectfs"
)

// unrequired finds the imports of the module in root (its tests' too) that
// no requirement of its go.mod provides, each with where it is imported:
// the go command only says that "updates to go.mod" are needed.
func unrequired(root string) []string {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil
	}
	mf, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil || mf.Module == nil {
		return nil
	}
	provided := func(path string) bool {
		if !strings.Contains(strings.Split(path, "/")[0], ".") || under(path, mf.Module.Mod.Path) {
			return true // the standard library, or the module itself
		}
		return slices.ContainsFunc(mf.Require, func(r *modfile.Require) bool { return under(path, r.Mod.Path) })
	}
	var out []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if p != root && (projectfs.GoIgnoresDir(name) || name == "vendor" || fileExists(filepath.Join(p, "go.mod"))) {
			return filepath.SkipDir
		}
		bp, err := build.ImportDir(p, build.ImportComment)
		if err != nil {
			return nil
		}
		for _, positions := range []map[string][]token.Position{bp.ImportPos, bp.TestImportPos, bp.XTestImportPos} {
			for path, pos := range positions {
				if !provided(path) && len(pos) > 0 {
					out = append(out, fmt.Sprintf("%s: %s is imported, but no module go.mod requires provides it; run go get %s (or go mod tidy)", relative(pos[0].String(), root), path, path))
				}
			}
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out)
}

func under(path, mod string) bool { return path == mod || strings.HasPrefix(path, mod+"/") }

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
