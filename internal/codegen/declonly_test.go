package codegen

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDeclOnly: over real sources (GOROOT's go/ and net/http trees), the
// copy parses, declares the same names on the same lines, and every
// function body is empty.
func TestDeclOnly(t *testing.T) {
	n := 0
	for _, tree := range []string{"go", "net/http", "encoding/json"} {
		root := filepath.Join(build.Default.GOROOT, "src", tree)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.Contains(p, "testdata") {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			orig, err := parser.ParseFile(token.NewFileSet(), p, src, parser.ParseComments)
			if err != nil {
				return nil // not valid Go on its own (a test input)
			}
			n++
			fset := token.NewFileSet()
			got, err := parser.ParseFile(fset, p, declOnly(src), parser.ParseComments)
			if err != nil {
				t.Errorf("%s: the copy does not parse: %v", p, err)
				return nil
			}
			want := decls(token.NewFileSet(), orig, src, p)
			have := decls(fset, got, nil, p)
			if strings.Join(want, "\n") != strings.Join(have, "\n") {
				t.Errorf("%s: declarations differ", p)
			}
			ast.Inspect(got, func(n ast.Node) bool {
				if f, ok := n.(*ast.FuncDecl); ok && f.Body != nil && len(f.Body.List) > 0 {
					t.Errorf("%s: %s keeps its body", p, f.Name.Name)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 100 {
		t.Fatalf("only %d files checked", n)
	}
}

// decls lists the file's top-level names with their lines.
func decls(fset *token.FileSet, f *ast.File, src []byte, name string) []string {
	if src != nil { // positions of the original need its own file set
		f, _ = parser.ParseFile(fset, name, src, parser.ParseComments)
	}
	var out []string
	for _, d := range f.Decls {
		line := fset.Position(d.Pos()).Line
		switch d := d.(type) {
		case *ast.FuncDecl:
			out = append(out, d.Name.Name+"@"+strconv.Itoa(line))
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					out = append(out, s.Name.Name+"@"+strconv.Itoa(fset.Position(s.Pos()).Line))
				case *ast.ValueSpec:
					for _, n := range s.Names {
						out = append(out, n.Name+"@"+strconv.Itoa(fset.Position(n.Pos()).Line))
					}
				}
			}
		}
	}
	return out
}
