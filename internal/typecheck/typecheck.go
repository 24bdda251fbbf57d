// Package typecheck type-checks a provider module, tests included, so spgen
// writes only projects that compile.
//
// The module's own packages are found by reading directories and import
// blocks and are type-checked from source; everything they import from
// other modules comes from export data in the build cache, in one call of
// the go command. So a check costs the same whether or not the module's
// packages changed since the last build: nothing of the module is compiled.
package typecheck

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/open-control-plane/spgen/internal/gocmd"
)

// TypeErrors lists the compile errors of a module, each as file:line:col:
// message, in the compiler's words.
type TypeErrors struct {
	Errors []string
	// Redeclared are the identifiers declared twice in one package.
	Redeclared []Redeclaration
	// Hints explain errors further; callers that know more about the
	// project add them.
	Hints []string
}

// Redeclaration is one identifier declared in two places of a package.
type Redeclaration struct {
	Name string
	// At and Other are file:line:col positions, relative to the module.
	At, Other string
}

func (e *TypeErrors) Error() string {
	msg := "the project does not type-check:\n" + strings.Join(e.Errors, "\n")
	for _, h := range e.Hints {
		msg += "\nhint: " + h
	}
	return msg
}

// Module type-checks every package of the module in dir, test files included.
func Module(ctx context.Context, dir string) error { return ModuleWith(ctx, dir, nil) }

// ModuleWith type-checks the module in dir as if the files in overlay (by
// project-relative path) had the given contents, without writing them.
func ModuleWith(ctx context.Context, dir string, overlay map[string][]byte) error {
	return Packages(ctx, dir, overlay, "./...")
}

// Packages type-checks the packages matching patterns (and their tests) in
// the module in dir, with overlay as in ModuleWith.
func Packages(ctx context.Context, dir string, overlay map[string][]byte, patterns ...string) error {
	abs, abso, err := absolute(dir, overlay)
	if err != nil {
		return err
	}
	c := &checker{ctx: ctx, root: abs, overlay: abso, fset: token.NewFileSet(), seen: map[string]bool{}}
	return c.run(patterns)
}

func absolute(dir string, overlay map[string][]byte) (string, map[string][]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	abso := make(map[string][]byte, len(overlay))
	for rel, content := range overlay {
		abso[filepath.Join(abs, filepath.FromSlash(rel))] = content
	}
	return abs, abso, nil
}

// buildFlags are the flags export data of dependencies is built with: the
// ones the user's go build, go vet and go test use, so that the warm-up
// compiles every dependency once for both. Dependencies live in the module
// cache, whose paths do not change from one stage to the next, so their
// cache keys do not either.
var buildFlags []string

type checker struct {
	ctx        context.Context
	root       string
	overlay    map[string][]byte
	fset       *token.FileSet
	errs       []string
	seen       map[string]bool
	redeclared []Redeclaration
	// syntax are the errors of files that do not parse.
	syntax []string
	// last is the position and message of the last error, which a
	// continuation ("\tother declaration of X") refers to.
	lastPos, lastMsg string
}

var redeclaredRE = regexp.MustCompile(`^(\S+) redeclared in this block$`)

func (c *checker) fail(pos, msg string) {
	if pos != "" && pos != "-" {
		pos = relative(pos, c.root)
	}
	// go/types reports where else a redeclared name is declared as a
	// separate error; it belongs to the one before.
	if strings.HasPrefix(msg, "\t") {
		if m := redeclaredRE.FindStringSubmatch(c.lastMsg); m != nil {
			c.redeclared = append(c.redeclared, Redeclaration{Name: m[1], At: c.lastPos, Other: pos})
			c.add(c.lastPos + ": " + c.lastMsg + " (other declaration at " + pos + ")")
			c.lastMsg = ""
		}
		return
	}
	if c.lastMsg != "" {
		c.add(c.lastPos + ": " + c.lastMsg)
	}
	c.lastPos, c.lastMsg = pos, msg
	if pos == "" || pos == "-" {
		c.add(msg)
		c.lastMsg = ""
	}
}

// failed reports whether any error was found so far.
func (c *checker) failed() bool {
	c.flush()
	return len(c.errs) > 0
}

// flush records the error fail is holding back for a continuation.
func (c *checker) flush() {
	if c.lastMsg != "" {
		c.add(c.lastPos + ": " + c.lastMsg)
		c.lastMsg = ""
	}
}

func (c *checker) add(msg string) {
	if !c.seen[msg] {
		c.seen[msg] = true
		c.errs = append(c.errs, msg)
	}
}

func (c *checker) run(patterns []string) error {
	flags := buildFlags
	m, err := discover(c.root, c.overlay, patterns)
	if errors.Is(err, errUnmodelled) {
		m, err = c.list(patterns, flags)
	}
	if err != nil {
		return c.explain(err)
	}
	if c.failed() {
		return c.result()
	}
	if len(m.pkgs) == 0 {
		return errors.New("no packages found")
	}
	ext, err := c.loadExternal(m.external, flags)
	if err != nil {
		return c.explain(fmt.Errorf("loading dependencies: %w", err))
	}
	for _, path := range m.external {
		for _, e := range ext.errs[path] {
			pos := e.Pos
			if pos == "" || pos == "-" {
				pos = m.importPos[path]
			}
			c.fail(pos, e.Msg)
		}
	}
	if c.failed() {
		return c.result()
	}

	checked := map[string]*types.Package{}
	var visit func(id string) *types.Package
	visit = func(id string) *types.Package {
		if t, ok := checked[id]; ok {
			return t
		}
		p := m.pkgs[id]
		checked[id] = nil // an import cycle resolves to nil and fails the check
		checked[id] = c.check(p, m.goVersion, func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			if local, ok := p.imports[path]; ok {
				if t := visit(local); t != nil {
					return t, nil
				}
				return nil, fmt.Errorf("package %s does not type-check", path)
			}
			if t := ext.types[path]; t != nil {
				return t, nil
			}
			return nil, fmt.Errorf("package %s not found", path)
		})
		return checked[id]
	}
	ids := make([]string, 0, len(m.pkgs))
	for id := range m.pkgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		visit(id)
	}
	return c.result()
}

// list finds the module's packages with the go command, for modules that
// discover does not model.
func (c *checker) list(patterns, flags []string) (*moduleInfo, error) {
	listed, err := packages.Load(&packages.Config{
		Context: c.ctx,
		Dir:     c.root,
		Env:     gocmd.Environ(),
		// NeedDeps: the go command rebuilds a package of the module that
		// imports a package under test against that package's test
		// variant (wiring [controller.test]); such variants are no
		// pattern's match, only dependencies of one.
		Mode:       packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedImports | packages.NeedDeps | packages.NeedModule,
		Tests:      true,
		BuildFlags: flags,
		Overlay:    c.overlay,
	}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("loading packages: %w", err)
	}
	m := &moduleInfo{pkgs: map[string]*localPackage{}, importPos: map[string]string{}}
	byID := map[string]*packages.Package{}
	packages.Visit(listed, nil, func(p *packages.Package) {
		inModule := p.Module != nil && p.Module.Main
		if inModule && !strings.HasSuffix(p.ID, ".test") { // not the generated test main
			byID[p.ID] = p
		}
	})
	needed := map[string]bool{}
	for id, p := range byID {
		for _, e := range p.Errors {
			c.fail(e.Pos, e.Msg)
		}
		if p.Module.GoVersion != "" {
			m.goVersion = p.Module.GoVersion
		}
		lp := &localPackage{id: id, path: p.PkgPath, files: p.CompiledGoFiles, imports: map[string]string{}}
		for path, imp := range p.Imports {
			if _, isLocal := byID[imp.ID]; isLocal {
				lp.imports[path] = imp.ID
			} else if path != "unsafe" && path != "C" && !needed[path] {
				needed[path] = true
				m.external = append(m.external, path)
			}
		}
		m.pkgs[id] = lp
	}
	sort.Strings(m.external)
	return m, nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

func (c *checker) check(p *localPackage, goVersion string, imp importerFunc) *types.Package {
	var files []*ast.File
	for _, name := range p.files {
		src, ok := c.overlay[name]
		if !ok {
			var err error
			if src, err = os.ReadFile(name); err != nil {
				c.fail("", err.Error())
				continue
			}
		}
		f, err := parser.ParseFile(c.fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			var list scanner.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					c.fail(e.Pos.String(), e.Msg)
					c.syntax = append(c.syntax, relative(e.Pos.String(), c.root)+": "+e.Msg)
				}
			} else {
				c.fail("", err.Error())
			}
			continue
		}
		files = append(files, f)
	}
	conf := types.Config{
		Importer: imp,
		Sizes:    types.SizesFor("gc", runtime.GOARCH),
		// Soft errors (unused variables and imports) fail the build too.
		Error: func(err error) {
			var te types.Error
			if errors.As(err, &te) {
				c.fail(te.Fset.Position(te.Pos).String(), te.Msg)
				return
			}
			c.fail("", err.Error())
		},
	}
	if goVersion != "" {
		conf.GoVersion = "go" + goVersion
	}
	t, _ := conf.Check(p.path, c.fset, files, nil)
	return t
}

// result reports the errors the way the compiler would have the user read
// them: syntax errors alone when there are any (a file that does not parse
// leaves every use of what it declares undefined), and errors in generated
// files only when nothing else is wrong (they follow from the sources they
// are generated from).
func (c *checker) result() error {
	c.flush()
	if len(c.errs) == 0 {
		return nil
	}
	errs := c.errs
	if len(c.syntax) > 0 {
		errs = c.syntax
	} else if own := slices.DeleteFunc(slices.Clone(errs), inGeneratedFile); len(own) > 0 && len(own) < len(errs) {
		errs = own
	}
	sort.Strings(errs)
	if left := len(c.errs) - len(errs); left > 0 {
		errs = append(errs, fmt.Sprintf("(%d more error(s) follow from these and are not shown; they go away once these are fixed)", left))
	}
	return &TypeErrors{Errors: errs, Redeclared: c.redeclared}
}

// explain names what usually makes the go command fail to load a module,
// which it reports as "updates to go.mod needed" or not at all: an import
// that no requirement of go.mod provides, with its place.
func (c *checker) explain(err error) error {
	if missing := unrequired(c.root); len(missing) > 0 {
		return &TypeErrors{Errors: missing}
	}
	return err
}

// inGeneratedFile reports whether an error is located in generated code.
func inGeneratedFile(msg string) bool {
	file, _, _ := strings.Cut(msg, ":")
	return strings.HasPrefix(filepath.Base(file), "zz_generated.")
}

// relative turns an absolute file:line:col into a project path, as the
// compiler reports it from the module root.
func relative(pos, root string) string {
	return strings.TrimPrefix(pos, root+string(filepath.Separator))
}
