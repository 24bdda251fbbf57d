package gencache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func module(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range map[string]string{
		"go.mod":                            "module example.com/m\n\ngo 1.26\n",
		"go.sum":                            "",
		"api/v1/types.go":                   "package v1\n\ntype T struct{}\n",
		"api/v1/zz_generated.deepcopy.go":   "package v1\n",
		"api/v1/types_test.go":              "package v1\n",
		"internal/controller/controller.go": "package controller\n",
		"internal/controller/testdata/x.go": "package x\n",
		".github/workflows/x.go":            "package x\n",
		"docs/README.md":                    "# docs\n",
		"tools/go.mod":                      "module example.com/tools\n",
		"tools/tools.go":                    "package tools\n",
	} {
		write(t, dir, rel, content)
	}
	return dir
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

var inputs = Inputs{Toolchain: "go1.26", Spec: []byte("kinds: [T]"), Skip: func(rel string) bool { return strings.Contains(rel, "zz_generated.") }}

func key(t *testing.T, dir string, in Inputs) string {
	t.Helper()
	k, ok, err := Key(dir, in)
	if err != nil || !ok {
		t.Fatalf("Key: ok %v, err %v", ok, err)
	}
	return k
}

// A key changes with every input of generation and with nothing else.
func TestKeyFollowsInputs(t *testing.T) {
	for _, c := range []struct {
		name    string
		edit    func(t *testing.T, dir string, in *Inputs)
		changes bool
	}{
		{"API types", func(t *testing.T, dir string, _ *Inputs) {
			write(t, dir, "api/v1/types.go", "package v1\n\ntype T struct{ X int }\n")
		}, true},
		{"controller markers", func(t *testing.T, dir string, _ *Inputs) {
			write(t, dir, "internal/controller/controller.go", "package controller\n\n// +kubebuilder:rbac:groups=\"\",resources=pods,verbs=get\n")
		}, true},
		{"a new package", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "pkg/util/util.go", "package util\n") }, true},
		{"go.sum", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "go.sum", "example.com/x v1.0.0 h1:x\n") }, true},
		{"the spec", func(_ *testing.T, _ string, in *Inputs) { in.Spec = []byte("kinds: [T, U]") }, true},
		{"the toolchain", func(_ *testing.T, _ string, in *Inputs) { in.Toolchain = "go1.27" }, true},
		{"an overlaid file", func(_ *testing.T, _ string, in *Inputs) {
			in.Overlay = map[string][]byte{"internal/wiring/w.go": []byte("package wiring\n")}
		}, true},
		{"a generated file", func(t *testing.T, dir string, _ *Inputs) {
			write(t, dir, "api/v1/zz_generated.deepcopy.go", "package v1 // edited\n")
		}, false},
		{"a test file", func(t *testing.T, dir string, _ *Inputs) {
			write(t, dir, "api/v1/types_test.go", "package v1 // edited\n")
		}, false},
		{"testdata", func(t *testing.T, dir string, _ *Inputs) {
			write(t, dir, "internal/controller/testdata/x.go", "package y\n")
		}, false},
		{"a hidden directory", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, ".github/workflows/x.go", "package y\n") }, false},
		{"a nested module", func(t *testing.T, dir string, _ *Inputs) {
			write(t, dir, "tools/tools.go", "package tools // edited\n")
		}, false},
		{"documentation", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "docs/README.md", "# edited\n") }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := module(t)
			in := inputs
			before := key(t, dir, in)
			c.edit(t, dir, &in)
			if after := key(t, dir, in); (after != before) != c.changes {
				t.Errorf("key changed: %v, want %v", after != before, c.changes)
			}
		})
	}
}

// Files outside the module that can change what loads leave no key.
func TestNoKeyWhenLoadingReachesOutside(t *testing.T) {
	for name, edit := range map[string]func(t *testing.T, dir string){
		"go.work": func(t *testing.T, dir string) { write(t, dir, "go.work", "go 1.26\n\nuse .\n") },
		"local replace": func(t *testing.T, dir string) {
			write(t, dir, "go.mod", "module example.com/m\n\ngo 1.26\n\nreplace example.com/lib => ../lib\n")
		},
		"vendor":    func(t *testing.T, dir string) { write(t, dir, "vendor/modules.txt", "") },
		"no go.mod": func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "go.mod")) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("GOWORK", "")
			dir := module(t)
			edit(t, dir)
			if _, ok, err := Key(dir, inputs); ok || err != nil {
				t.Errorf("ok %v, err %v; want no key", ok, err)
			}
		})
	}
	t.Run("module replace", func(t *testing.T) {
		dir := module(t)
		write(t, dir, "go.mod", "module example.com/m\n\ngo 1.26\n\nreplace example.com/lib => example.com/fork v1.0.0\n")
		if _, ok, _ := Key(dir, inputs); !ok {
			t.Error("a replacement by another module version needs no files outside the module")
		}
	})
}

func TestStoreLoad(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if _, hit := Load("k1"); hit {
		t.Fatal("hit in an empty cache")
	}
	want := map[string][]byte{"config/rbac/role.yaml": []byte("rules: []\n"), "api/v1/zz_generated.deepcopy.go": []byte("package v1\n")}
	Store("k1", want)
	got, hit := Load("k1")
	if !hit || len(got) != len(want) || string(got["config/rbac/role.yaml"]) != "rules: []\n" {
		t.Fatalf("Load = %v, %v", got, hit)
	}
	for i := range keep + 10 {
		Store("extra"+string(rune('a'+i%26))+string(rune('a'+i/26)), want)
	}
	entries, _ := os.ReadDir(Dir())
	if len(entries) > keep {
		t.Errorf("%d results kept, want at most %d", len(entries), keep)
	}
}

// Links are followed to files; links to directories and dangling links
// are not sources and do not fail the key.
func TestKeyWithLinks(t *testing.T) {
	dir := module(t)
	before := key(t, dir, inputs)
	if err := os.Symlink(filepath.Join(dir, "api"), filepath.Join(dir, "apilink.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere.go"), filepath.Join(dir, "dangling.go")); err != nil {
		t.Fatal(err)
	}
	if after := key(t, dir, inputs); after != before {
		t.Error("a link to a directory or a dangling link changed the key")
	}
	if err := os.Symlink(filepath.Join(dir, "api", "v1", "types.go"), filepath.Join(dir, "linked.go")); err != nil {
		t.Fatal(err)
	}
	if after := key(t, dir, inputs); after == before {
		t.Error("a link to a source file is not part of the key")
	}
}
