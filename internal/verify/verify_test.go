package verify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
