package scaffold

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCommitIntoExistingDirectory: planned files replace same paths, every
// other existing file survives, and no staging directory is left behind.
func TestCommitIntoExistingDirectory(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "proj")
	if err := os.MkdirAll(filepath.Join(target, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{".git/HEAD": "ref", "README.md": "old", "keep.txt": "mine"} {
		if err := os.WriteFile(filepath.Join(target, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree := NewTree()
	tree.Add("README.md", []byte("new"), Scaffolded)
	tree.Add("api/x.go", []byte("package api\n"), Scaffolded)
	stage, err := NewDraft(target, false)
	if err != nil {
		t.Fatal(err)
	}
	defer stage.Discard()
	if err := stage.Write(tree); err != nil {
		t.Fatal(err)
	}
	if err := stage.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{".git/HEAD": "ref", "README.md": "new", "keep.txt": "mine", "api/x.go": "package api\n"} {
		got, err := os.ReadFile(filepath.Join(target, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("staging left behind: %v", entries)
	}
}

// TestCommitNewDirectory moves the stage into place with one rename.
func TestCommitNewDirectory(t *testing.T) {
	target := filepath.Join(t.TempDir(), "new")
	stage, err := NewDraft(target, false)
	if err != nil {
		t.Fatal(err)
	}
	tree := NewTree()
	tree.Add("go.mod", []byte("module x\n"), Scaffolded)
	if err := stage.Write(tree); err != nil {
		t.Fatal(err)
	}
	if err := stage.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(target, "go.mod")); err != nil || string(got) != "module x\n" {
		t.Fatalf("go.mod = %q, %v", got, err)
	}
}
