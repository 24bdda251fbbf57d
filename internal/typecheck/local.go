package typecheck

import (
	"bytes"
	"errors"
	"fmt"
	"go/build"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"

	"github.com/open-control-plane/spgen/internal/projectfs"
)

// localPackage is one package of the module, checked from source: a
// package, the package with its in-package tests, or its external test
// package.
type localPackage struct {
	id      string
	path    string   // the import path it is type-checked as
	files   []string // absolute
	imports map[string]string
	// importPos is where each import is first written, for errors about
	// packages that cannot be loaded.
	importPos map[string]string
}

// moduleInfo is what discovery finds: the packages to check, by id, and the
// packages of other modules they import.
type moduleInfo struct {
	goVersion string
	pkgs      map[string]*localPackage
	external  []string
	importPos map[string]string
}

// errUnmodelled means the module uses something discovery does not model
// as the go command does (cgo; an external test importing a package that
// imports the package under test, which the go command rebuilds against
// the test variant); the go command lists such modules instead.
var errUnmodelled = errors.New("not modelled")

// discover finds the module's packages matching patterns ("./..." or
// "./dir") and the local packages they import, with their tests, the way
// the go command selects files (build constraints, GOOS, GOARCH). It reads
// directories and import blocks only: listing a module with the go command
// costs more than type-checking it.
func discover(root string, overlay map[string][]byte, patterns []string) (*moduleInfo, error) {
	gomod, err := readFile(overlay, filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	mf, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil || mf.Module == nil {
		return nil, fmt.Errorf("reading go.mod: %v", err)
	}
	d := &discovery{root: root, modPath: mf.Module.Mod.Path, overlay: overlay, ctxt: build.Default, dirs: map[string]*build.Package{}}
	d.ctxt.ReadDir = d.readDir
	d.ctxt.OpenFile = func(p string) (io.ReadCloser, error) {
		b, err := readFile(overlay, p)
		return io.NopCloser(bytes.NewReader(b)), err
	}
	var queue []string
	for _, pat := range patterns {
		dirs, err := d.match(pat)
		if err != nil {
			return nil, err
		}
		queue = append(queue, dirs...)
	}
	m := &moduleInfo{pkgs: map[string]*localPackage{}, importPos: map[string]string{}}
	if mf.Go != nil {
		m.goVersion = mf.Go.Version
	}
	if err := d.load(queue); err != nil {
		return nil, err
	}
	if err := d.build(m); err != nil {
		return nil, err
	}
	return m, nil
}

type discovery struct {
	root, modPath string
	overlay       map[string][]byte
	ctxt          build.Context
	dirs          map[string]*build.Package // by import path; nil: no Go files
}

// match lists the directories a pattern names.
func (d *discovery) match(pattern string) ([]string, error) {
	if pattern == "./..." {
		var dirs []string
		err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() {
				return nil
			}
			name := e.Name()
			if p != d.root && (projectfs.GoIgnoresDir(name) || name == "vendor" || exists(d.overlay, filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			dirs = append(dirs, p)
			return nil
		})
		for p := range d.overlay {
			if dir := filepath.Dir(p); !slices.Contains(dirs, dir) && strings.HasPrefix(dir, d.root+string(filepath.Separator)) {
				dirs = append(dirs, dir)
			}
		}
		return dirs, err
	}
	if !strings.HasPrefix(pattern, "./") || strings.Contains(pattern, "...") {
		return nil, fmt.Errorf("unsupported package pattern %q", pattern)
	}
	return []string{filepath.Join(d.root, filepath.FromSlash(pattern))}, nil
}

// load reads the directories and, transitively, every local directory
// their packages and tests import.
func (d *discovery) load(queue []string) error {
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		ip := d.importPath(dir)
		if _, done := d.dirs[ip]; done {
			continue
		}
		if files, _ := d.readDir(dir); len(files) == 0 {
			d.dirs[ip] = nil // no such directory: the import fails where it is written
			continue
		}
		bp, err := d.ctxt.ImportDir(dir, 0)
		var noGo *build.NoGoError
		switch {
		case errors.As(err, &noGo):
			d.dirs[ip] = nil
			continue
		case err != nil:
			return err
		case len(bp.CgoFiles) > 0 || len(bp.SwigFiles) > 0 || len(bp.SwigCXXFiles) > 0:
			return errUnmodelled
		}
		d.dirs[ip] = bp
		for _, imp := range slices.Concat(bp.Imports, bp.TestImports, bp.XTestImports) {
			if d.isLocal(imp) {
				queue = append(queue, d.dir(imp))
			}
		}
	}
	return nil
}

func (d *discovery) isLocal(ip string) bool {
	return ip == d.modPath || strings.HasPrefix(ip, d.modPath+"/")
}

func (d *discovery) dir(ip string) string {
	return filepath.Join(d.root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(ip, d.modPath), "/")))
}

func (d *discovery) importPath(dir string) string {
	rel, _ := filepath.Rel(d.root, dir)
	if rel == "." {
		return d.modPath
	}
	return path.Join(d.modPath, filepath.ToSlash(rel))
}

// build turns the directories into packages to check, as the go command
// builds test binaries: a package's tests are compiled with it, its
// external tests against that test variant.
func (d *discovery) build(m *moduleInfo) error {
	needed := map[string]bool{}
	for ip, bp := range d.dirs {
		if bp == nil {
			continue
		}
		plain := d.pkg(ip, ip, bp.GoFiles, bp, bp.Imports, bp.ImportPos, nil)
		m.pkgs[plain.id] = plain
		var testVariant *localPackage
		if len(bp.TestGoFiles) > 0 {
			if d.importsBack(ip, bp.TestImports) {
				return errUnmodelled
			}
			testVariant = d.pkg(ip+" ["+ip+".test]", ip, slices.Concat(bp.GoFiles, bp.TestGoFiles), bp,
				slices.Concat(bp.Imports, bp.TestImports), mergePos(bp.ImportPos, bp.TestImportPos), nil)
			m.pkgs[testVariant.id] = testVariant
		}
		if len(bp.XTestGoFiles) > 0 {
			self := map[string]string{}
			if testVariant != nil {
				self[ip] = testVariant.id
				if d.importsBack(ip, slices.DeleteFunc(slices.Clone(bp.XTestImports), func(s string) bool { return s == ip })) {
					return errUnmodelled
				}
			}
			x := d.pkg(ip+"_test ["+ip+".test]", ip+"_test", bp.XTestGoFiles, bp, bp.XTestImports, bp.XTestImportPos, self)
			m.pkgs[x.id] = x
		}
	}
	// Sorted, so that an error about a dependency names the same place
	// every time.
	for _, id := range slices.Sorted(maps.Keys(m.pkgs)) {
		p := m.pkgs[id]
		for ip, pos := range p.importPos {
			if _, local := p.imports[ip]; !local && ip != "unsafe" && ip != "C" && !needed[ip] {
				needed[ip] = true
				m.external = append(m.external, ip)
				m.importPos[ip] = pos
			}
		}
	}
	slices.Sort(m.external)
	return nil
}

// pkg describes one package to check. Local imports resolve to the plain
// packages, except those in override.
func (d *discovery) pkg(id, path string, names []string, bp *build.Package, imports []string, pos map[string][]token.Position, override map[string]string) *localPackage {
	p := &localPackage{id: id, path: path, imports: map[string]string{}, importPos: map[string]string{}}
	for _, n := range names {
		p.files = append(p.files, filepath.Join(bp.Dir, n))
	}
	for _, ip := range imports {
		if ps := pos[ip]; len(ps) > 0 {
			p.importPos[ip] = ps[0].String()
		} else {
			p.importPos[ip] = ""
		}
		if id, ok := override[ip]; ok {
			p.imports[ip] = id
		} else if d.isLocal(ip) && d.dirs[ip] != nil {
			p.imports[ip] = ip
		}
	}
	return p
}

// importsBack reports whether a local package among imports depends,
// directly or not, on the package ip: the go command would then build a
// test variant of it too.
func (d *discovery) importsBack(ip string, imports []string) bool {
	seen := map[string]bool{}
	var reaches func(from string) bool
	reaches = func(from string) bool {
		if from == ip {
			return true
		}
		bp := d.dirs[from]
		if seen[from] || bp == nil {
			return false
		}
		seen[from] = true
		for _, next := range bp.Imports {
			if d.isLocal(next) && reaches(next) {
				return true
			}
		}
		return false
	}
	for _, imp := range imports {
		if d.isLocal(imp) && reaches(imp) {
			return true
		}
	}
	return false
}

func mergePos(a, b map[string][]token.Position) map[string][]token.Position {
	out := make(map[string][]token.Position, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = append(out[k], v...)
	}
	return out
}

// readDir lists a directory as it will be: files on disk and in the
// overlay.
func (d *discovery) readDir(dir string) ([]fs.FileInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []fs.FileInfo
	seen := map[string]bool{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue
		}
		if _, over := d.overlay[filepath.Join(dir, e.Name())]; over {
			info = overlayFile{name: e.Name(), size: int64(len(d.overlay[filepath.Join(dir, e.Name())]))}
		}
		seen[e.Name()] = true
		out = append(out, info)
	}
	for p, content := range d.overlay {
		if filepath.Dir(p) == dir && !seen[filepath.Base(p)] {
			out = append(out, overlayFile{name: filepath.Base(p), size: int64(len(content))})
		}
	}
	if len(out) == 0 && err != nil {
		return nil, err
	}
	return out, nil
}

type overlayFile struct {
	name string
	size int64
}

func (f overlayFile) Name() string       { return f.name }
func (f overlayFile) Size() int64        { return f.size }
func (f overlayFile) Mode() fs.FileMode  { return 0o644 }
func (f overlayFile) ModTime() time.Time { return time.Time{} }
func (f overlayFile) IsDir() bool        { return false }
func (f overlayFile) Sys() any           { return nil }

func readFile(overlay map[string][]byte, p string) ([]byte, error) {
	if b, ok := overlay[p]; ok {
		return b, nil
	}
	return os.ReadFile(p)
}

func exists(overlay map[string][]byte, p string) bool {
	if _, ok := overlay[p]; ok {
		return true
	}
	_, err := os.Stat(p)
	return err == nil
}
