package typecheck

import (
	"bufio"
	"errors"
	"fmt"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"

	"github.com/open-control-plane/spgen/internal/gencache"
	"github.com/open-control-plane/spgen/internal/gocmd"
)

// Types of packages of other modules come from the export data the go
// command keeps in its build cache. Which file holds a package's export
// data is a function of go.mod, go.sum, the toolchain and its environment,
// and the packages asked for: it is asked once and remembered, so a check
// that imports what an earlier one did runs only `go env`, not `go list`,
// whose hashing of every dependency's sources costs more than the check.
// A remembered file that the build cache has since trimmed sends the check
// back to the go command.

// external is the outcome of loading packages of other modules.
type external struct {
	types map[string]*types.Package
	// errs are the go command's errors by package path.
	errs map[string][]packages.Error
}

// loadExternal loads the types of packages of other modules from export
// data, all in one universe (a type seen through two packages is one type).
func (c *checker) loadExternal(paths []string, flags []string) (*external, error) {
	ext := &external{types: map[string]*types.Package{}, errs: map[string][]packages.Error{}}
	if len(paths) == 0 {
		return ext, nil
	}
	key, cacheable := c.exportsKey(paths, flags)
	files, hit := map[string][]byte(nil), false
	if cacheable {
		files, hit = gencache.Load(key)
		hit = hit && allExist(files)
	}
	if !hit {
		listed, err := packages.Load(&packages.Config{Context: c.ctx, Dir: c.root, Env: gocmd.Environ(), Mode: packages.NeedName | packages.NeedExportFile, BuildFlags: flags}, paths...)
		if err != nil {
			return nil, err
		}
		files = map[string][]byte{}
		for _, p := range listed {
			if len(p.Errors) > 0 {
				ext.errs[p.PkgPath] = p.Errors
				continue
			}
			files[p.PkgPath] = []byte(p.ExportFile)
		}
		if len(ext.errs) > 0 {
			return ext, nil
		}
		// An answer without export data for a package is not one to
		// remember: the next run must ask again.
		var absent []string
		for _, path := range paths {
			if len(files[path]) == 0 {
				absent = append(absent, path)
			}
		}
		if len(absent) > 0 {
			return nil, fmt.Errorf("the go command compiled no export data for %s (and said nothing about why); try go build ./... in the project", strings.Join(absent[:min(3, len(absent))], ", "))
		}
		if cacheable {
			gencache.Store(key, files)
		}
	}
	imports := map[string]*types.Package{}
	for _, path := range paths {
		t, err := readExport(c.fset, imports, path, string(files[path]))
		if err != nil {
			return nil, err
		}
		ext.types[path] = t
	}
	return ext, nil
}

func readExport(fset *token.FileSet, imports map[string]*types.Package, path, file string) (*types.Package, error) {
	if file == "" {
		return nil, fmt.Errorf("no export data for %s", path)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// go list -export names build-cache files that may be archives, which
	// only NewReader reads until Go 1.29.
	r, err := gcexportdata.NewReader(bufio.NewReader(f)) //nolint:staticcheck // see above
	if err != nil {
		return nil, fmt.Errorf("reading export data of %s: %w", path, err)
	}
	t, err := gcexportdata.Read(r, fset, imports, path)
	if err != nil {
		return nil, fmt.Errorf("reading export data of %s: %w", path, err)
	}
	return t, nil
}

// exportsKey names the go command's answer for paths in this module.
// ok is false when the answer can depend on files outside the module cache.
func (c *checker) exportsKey(paths, flags []string) (key string, ok bool) {
	if !gencache.SelfContained(c.root) {
		return "", false
	}
	gomod, err1 := os.ReadFile(filepath.Join(c.root, "go.mod"))
	gosum, err2 := os.ReadFile(filepath.Join(c.root, "go.sum"))
	if errors.Is(err2, fs.ErrNotExist) {
		err2 = nil // a module without requirements
	}
	env, err3 := gocmd.GoEnv(c.ctx, c.root)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", false
	}
	return "exports-" + gencache.Sum(string(gomod), string(gosum), env.Fingerprint(), strings.Join(flags, " "), strings.Join(paths, "\n")), true
}

func allExist(files map[string][]byte) bool {
	for _, f := range files {
		if _, err := os.Stat(string(f)); err != nil {
			return false
		}
	}
	return true
}
