package typecheck

import (
	"context"
	"errors"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/open-control-plane/spgen/internal/gencache"
)

func module(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const lib = "package lib\n\nimport \"strings\"\n\n// Up upper-cases s.\nfunc Up(s string) string { return strings.ToUpper(s) }\n"

func TestModule(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // empty: must pass
	}{
		{"valid, with tests of both kinds", map[string]string{
			"lib/lib.go":      lib,
			"lib/lib_test.go": "package lib\n\nimport \"testing\"\n\nfunc TestUp(t *testing.T) { _ = Up(\"x\") }\n",
			"lib/x_test.go":   "package lib_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/m/lib\"\n)\n\nfunc TestX(t *testing.T) { _ = lib.Up(\"x\") }\n",
			"cmd/m/main.go":   "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { println(lib.Up(\"x\")) }\n",
			"lib/range.go":    "package lib\n\n// Count uses range over int (go 1.22+).\nfunc Count() (n int) {\n\tfor range 3 {\n\t\tn++\n\t}\n\treturn n\n}\n",
		}, nil},
		{"type error in a dependent package", map[string]string{
			"lib/lib.go":    lib,
			"cmd/m/main.go": "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { var n int = lib.Up(\"x\"); println(n) }\n",
		}, []string{"cmd/m/main.go:5:27: cannot use lib.Up(\"x\")"}},
		{"error only in a test file", map[string]string{
			"lib/lib.go":      lib,
			"lib/lib_test.go": "package lib\n\nimport \"testing\"\n\nfunc TestUp(t *testing.T) { Down() }\n",
		}, []string{"lib/lib_test.go:5:29: undefined: Down"}},
		{"unused variable", map[string]string{
			"lib/lib.go": "package lib\n\nfunc F() { x := 1 }\n",
		}, []string{"lib/lib.go:3:12: declared and not used: x"}},
		{"syntax error", map[string]string{
			"lib/lib.go": "package lib\n\nfunc F( {\n",
		}, []string{"lib/lib.go:3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Module(context.Background(), module(t, c.files))
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var te *TypeErrors
			if !errors.As(err, &te) {
				t.Fatalf("want type errors, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("errors lack %q:\n%s", w, err)
				}
			}
		})
	}
}

// TestOverlay checks the module as if a file had other content.
func TestOverlay(t *testing.T) {
	dir := module(t, map[string]string{"lib/lib.go": lib})
	if err := ModuleWith(context.Background(), dir, map[string][]byte{"lib/lib.go": []byte("package lib\n\nfunc F() int { return \"s\" }\n")}); err == nil {
		t.Fatal("overlay with a type error passed")
	}
	if err := ModuleWith(context.Background(), dir, map[string][]byte{"lib/extra.go": []byte("package lib\n\n// G is new.\nfunc G() string { return Up(\"g\") }\n")}); err != nil {
		t.Fatalf("overlay adding a valid file: %v", err)
	}
}

// TestRedeclared reports a name declared in two files of a package once,
// with both positions, and as a Redeclaration callers can explain.
func TestRedeclared(t *testing.T) {
	dir := module(t, map[string]string{
		"a/one.go": "package a\n\ntype T struct{}\n",
		"a/two.go": "package a\n\ntype T int\n",
	})
	err := Module(context.Background(), dir)
	var te *TypeErrors
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want type errors", err)
	}
	want := "a/two.go:3:6: T redeclared in this block (other declaration at a/one.go:3:6)"
	if len(te.Errors) != 1 || te.Errors[0] != want {
		t.Errorf("errors = %q, want [%q]", te.Errors, want)
	}
	if len(te.Redeclared) != 1 || te.Redeclared[0] != (Redeclaration{Name: "T", At: "a/two.go:3:6", Other: "a/one.go:3:6"}) {
		t.Errorf("redeclared = %+v", te.Redeclared)
	}
}

// TestTestVariants checks packages as the go command builds test binaries:
// external tests see what in-package test files add, other packages do not.
func TestTestVariants(t *testing.T) {
	files := map[string]string{
		"lib/lib.go":         lib,
		"lib/export_test.go": "package lib\n\n// Lower is exported for tests only.\nfunc Lower(s string) string { return s }\n",
		"lib/x_test.go":      "package lib_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/m/lib\"\n)\n\nfunc TestX(t *testing.T) { _ = lib.Lower(lib.Up(\"x\")) }\n",
	}
	if err := Module(context.Background(), module(t, files)); err != nil {
		t.Fatalf("an external test using a test-only export: %v", err)
	}
	files["cmd/m/main.go"] = "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { println(lib.Lower(\"x\")) }\n"
	err := Module(context.Background(), module(t, files))
	if err == nil || !strings.Contains(err.Error(), "cmd/m/main.go:5:27: undefined: lib.Lower") {
		t.Fatalf("a test-only export used outside tests: %v", err)
	}
}

// TestMissingImport names the import that cannot be loaded where it is
// written.
func TestMissingImport(t *testing.T) {
	dir := module(t, map[string]string{"lib/lib.go": "package lib\n\nimport \"example.org/nowhere/pkg\"\n\nvar _ = pkg.X\n"})
	err := Module(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "lib/lib.go:3:8: ") || !strings.Contains(err.Error(), "example.org/nowhere/pkg") {
		t.Fatalf("err = %v", err)
	}
}

// TestDiscoverMatchesGoList finds the same packages, files and imports as
// the go command, for the golden projects and for modules that need the go
// command (cgo, an external test importing a package that imports the package
// under test).
func TestDiscoverMatchesGoList(t *testing.T) {
	golden, _ := filepath.Glob(filepath.Join("..", "..", "golden", "*"))
	if len(golden) == 0 {
		t.Fatal("no golden projects")
	}
	for _, dir := range golden {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			abs, _ := filepath.Abs(dir)
			m, err := discover(abs, nil, []string{"./..."})
			if err != nil {
				t.Fatal(err)
			}
			c := &checker{ctx: context.Background(), root: abs, fset: token.NewFileSet(), seen: map[string]bool{}}
			want, err := c.list([]string{"./..."}, []string{"-trimpath"})
			if err != nil || len(c.errs) > 0 {
				t.Fatal(err, c.errs)
			}
			if m.goVersion != want.goVersion || !slices.Equal(m.external, want.external) {
				t.Errorf("go %s, external %v;\nwant go %s, external %v", m.goVersion, m.external, want.goVersion, want.external)
			}
			if len(m.pkgs) != len(want.pkgs) {
				t.Errorf("%d packages, want %d", len(m.pkgs), len(want.pkgs))
			}
			for id, w := range want.pkgs {
				g := m.pkgs[id]
				if g == nil {
					t.Errorf("package %s not found", id)
					continue
				}
				if g.path != w.path || !slices.Equal(sorted(g.files), sorted(w.files)) || !maps.Equal(g.imports, w.imports) {
					t.Errorf("%s: %s %v %v\nwant %s %v %v", id, g.path, g.files, g.imports, w.path, w.files, w.imports)
				}
			}
		})
	}
	for name, files := range map[string]map[string]string{
		"cgo": {"lib/lib.go": "package lib\n\n// int one() { return 1; }\nimport \"C\"\n\n// One is one.\nfunc One() int { return int(C.one()) }\n"},
		"external test importing a dependent": {
			"lib/lib.go":      lib,
			"lib/lib_test.go": "package lib\n\nimport \"testing\"\n\nfunc TestUp(t *testing.T) { _ = Up(\"x\") }\n",
			"lib/x_test.go":   "package lib_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/m/use\"\n)\n\nfunc TestIt(t *testing.T) { _ = use.It() }\n",
			"use/use.go":      "package use\n\nimport \"example.com/m/lib\"\n\n// It uses lib.\nfunc It() string { return lib.Up(\"x\") }\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := module(t, files)
			if _, err := discover(dir, nil, []string{"./..."}); !errors.Is(err, errUnmodelled) {
				t.Fatalf("discover: %v, want the go command to list it", err)
			}
			if err := Module(context.Background(), dir); err != nil {
				t.Fatalf("checked through the go command: %v", err)
			}
		})
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestMissingLocalImport: an import of a directory of the module that does
// not exist is an error where it is written.
func TestMissingLocalImport(t *testing.T) {
	dir := module(t, map[string]string{"lib/lib.go": "package lib\n\nimport \"example.com/m/nope\"\n\nvar _ = nope.X\n"})
	err := Module(context.Background(), dir)
	var te *TypeErrors
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "lib/lib.go:3:8: ") || !strings.Contains(err.Error(), "example.com/m/nope") {
		t.Fatalf("err = %v", err)
	}
}

// TestRemembersExports: the go command's answer about dependencies is
// remembered and used without asking again; an answer whose export data
// the build cache has trimmed is asked again.
func TestRemembersExports(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := module(t, map[string]string{"lib/lib.go": lib})
	if err := Module(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	c := &checker{ctx: context.Background(), root: dir}
	key, ok := c.exportsKey([]string{"strings"}, buildFlags)
	if !ok {
		t.Fatal("no key for a self-contained module")
	}
	remembered, hit := gencache.Load(key)
	if !hit || len(remembered["strings"]) == 0 {
		t.Fatalf("nothing remembered for strings: %v", remembered)
	}
	// Remember the export data of bytes as that of strings: a check that
	// asks no one reads package bytes where lib imports strings.
	bytesPkg, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedExportFile, Dir: dir, BuildFlags: buildFlags}, "bytes")
	if err != nil || len(bytesPkg) != 1 || bytesPkg[0].ExportFile == "" {
		t.Fatal(err)
	}
	gencache.Store(key, map[string][]byte{"strings": []byte(bytesPkg[0].ExportFile)})
	if err := Module(context.Background(), dir); err == nil || !strings.Contains(err.Error(), `"bytes" imported and not used`) {
		t.Fatalf("the remembered answer was not used: %v", err)
	}
	gencache.Store(key, map[string][]byte{"strings": []byte(filepath.Join(t.TempDir(), "trimmed"))})
	if err := Module(context.Background(), dir); err != nil {
		t.Fatalf("a trimmed export file was not asked for again: %v", err)
	}
}

// TestOneMissingDependency reports the import that cannot be loaded, alone:
// not every other import as a consequence.
func TestOneMissingDependency(t *testing.T) {
	dir := module(t, map[string]string{
		"lib/lib.go":    lib,
		"cmd/m/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/lib\"\n\t\"example.org/nowhere/pkg\"\n)\n\nfunc main() { fmt.Println(lib.Up(pkg.X)) }\n",
	})
	var te *TypeErrors
	if err := Module(context.Background(), dir); !errors.As(err, &te) || len(te.Errors) != 1 || !strings.HasPrefix(te.Errors[0], "cmd/m/main.go:7:2: ") {
		t.Fatalf("err = %v", err)
	}
}

// TestErrorsInReadingOrder: a file that does not parse is reported alone,
// not after the errors it causes elsewhere; errors in generated code that
// follow from errors in the sources are counted, not listed.
func TestErrorsInReadingOrder(t *testing.T) {
	generated := "package lib\n\nfunc (t *Thing) DeepCopy() *Thing { return t }\n\nfunc (t *Thing) Copy() *Thing { return t }\n"
	for _, c := range []struct {
		name   string
		source string
		want   []string
	}{
		{"syntax error", "package lib\n\ntype Thing struct {\n\tA int {\n}\n", []string{
			"lib/lib.go:4:8: expected ';', found '{'",
			"lib/lib.go:5:3: expected '}', found 'EOF'",
			"(4 more error(s) follow from these and are not shown"}},
		{"type error", "package lib\n\ntype Thing2 struct{}\n\nvar X = Y\n", []string{
			"lib/lib.go:5:9: undefined: Y",
			"(4 more error(s) follow from these and are not shown"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := module(t, map[string]string{"lib/lib.go": c.source, "lib/zz_generated.deepcopy.go": generated})
			err := Module(context.Background(), dir)
			var te *TypeErrors
			if !errors.As(err, &te) {
				t.Fatalf("Module: %v, want type errors", err)
			}
			if len(te.Errors) != len(c.want) {
				t.Fatalf("errors:\n%s\nwant %d lines", strings.Join(te.Errors, "\n"), len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(te.Errors[i], w) {
					t.Errorf("line %d = %q, want %q", i, te.Errors[i], w)
				}
			}
		})
	}
}
