package codegen

import (
	"fmt"
	"go/types"
	"path/filepath"
	"strings"

	"sigs.k8s.io/controller-tools/pkg/loader"
)

// checkAPITypes finds, in the API packages, the two kinds of type the
// generators cannot handle and would crash on instead of reporting: a
// field of interface type (the deepcopy generator dereferences a nil
// package for any) and a type that contains itself (the CRD generator
// recurses until the stack overflows, which no recover can catch). Each
// problem is reported at the field, from every kind (a struct embedding
// metav1.TypeMeta) down.
func checkAPITypes(root string, checker *loader.TypeChecker, pkgs []*loader.Package, module string) []string {
	c := &typeCheck{root: root, module: module, state: map[*types.Named]int{}}
	for _, p := range pkgs {
		// The generators' own type-check: it checks the declarations they
		// read, and each package only once.
		checker.Check(p)
		if p.Types == nil {
			continue
		}
		c.pkg = p
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			if named, ok := tn.Type().(*types.Named); ok && isKind(named) {
				c.visit(named, nil)
			}
		}
	}
	return c.problems
}

type typeCheck struct {
	root, module string
	pkg          *loader.Package
	// state is 1 while a type's fields are being walked, 2 when done.
	state    map[*types.Named]int
	problems []string
}

// isKind reports whether named is an API object: a struct that embeds
// TypeMeta.
func isKind(named *types.Named) bool {
	st, ok := named.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for f := range st.Fields() {
		if f.Embedded() && f.Name() == "TypeMeta" {
			return true
		}
	}
	return false
}

// visit walks the fields of a struct type of the module; path is the
// chain of fields that led to it.
func (c *typeCheck) visit(named *types.Named, path []string) {
	st, ok := named.Underlying().(*types.Struct)
	if !ok || c.state[named] == 2 {
		return
	}
	c.state[named] = 1
	for f := range st.Fields() {
		c.field(named, f, append(path, named.Obj().Name()+"."+f.Name()))
	}
	c.state[named] = 2
}

func (c *typeCheck) field(owner *types.Named, f *types.Var, path []string) {
	t := f.Type()
	for {
		switch u := types.Unalias(t).(type) {
		case *types.Pointer:
			t = u.Elem()
			continue
		case *types.Slice:
			t = u.Elem()
			continue
		case *types.Array:
			t = u.Elem()
			continue
		case *types.Map:
			t = u.Elem()
			continue
		case *types.Interface:
			qual := types.RelativeTo(owner.Obj().Pkg())
			c.report(f, fmt.Sprintf("field %s.%s (%s) holds values of interface type %s, which can neither be deep-copied nor described in a CRD schema; use apiextensionsv1.JSON (or runtime.RawExtension) for free-form values, or a concrete type",
				owner.Obj().Name(), f.Name(), types.TypeString(f.Type(), qual), types.TypeString(t, qual)))
		case *types.Named:
			if u.Obj().Pkg() == nil || !c.inModule(u.Obj().Pkg().Path()) {
				return
			}
			if _, ok := u.Underlying().(*types.Interface); ok {
				t = u.Underlying()
				continue
			}
			if c.state[u] == 1 {
				c.report(f, fmt.Sprintf("type %s contains itself (%s); a CRD schema cannot describe a recursive type: give the nested level its own type, or use apiextensionsv1.JSON",
					u.Obj().Name(), strings.Join(path, " → ")))
				return
			}
			c.visit(u, path)
		}
		return
	}
}

func (c *typeCheck) inModule(pkgPath string) bool {
	return pkgPath == c.module || strings.HasPrefix(pkgPath, c.module+"/")
}

func (c *typeCheck) report(f *types.Var, msg string) {
	pos := c.pkg.Fset.Position(f.Pos())
	file := pos.Filename
	if rel, err := filepath.Rel(c.root, file); err == nil {
		file = filepath.ToSlash(rel)
	}
	c.problems = append(c.problems, fmt.Sprintf("%s:%d:%d: %s", file, pos.Line, pos.Column, msg))
}
