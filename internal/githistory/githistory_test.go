package githistory

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil"
)

func hash(s string) string { return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))) }

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFind: every committed version of a file is found by its hash, from a
// project in a subdirectory of the repository too, and so is a staged one;
// an uncommitted edit, another file's content and a file outside paths
// are not.
func TestFind(t *testing.T) {
	repo := t.TempDir()
	project := filepath.Join(repo, "providers", "velero")
	file := filepath.Join(project, "internal", "a.go")
	testutil.Git(t, repo, "init", "-q")
	write(t, file, "v1\n")
	write(t, filepath.Join(project, "other.go"), "other\n")
	testutil.Git(t, repo, "add", ".")
	testutil.Git(t, repo, "commit", "-qm", "one")
	write(t, file, "v2\n")
	testutil.Git(t, repo, "commit", "-qam", "two")
	testutil.Git(t, repo, "switch", "-qc", "side")
	write(t, file, "on a branch\n")
	testutil.Git(t, repo, "commit", "-qam", "side")
	testutil.Git(t, repo, "switch", "-q", "-")
	write(t, file, "staged\n")
	testutil.Git(t, repo, "add", ".")
	write(t, file, "uncommitted\n")

	want := map[string]bool{}
	for _, s := range []string{"v1\n", "v2\n", "on a branch\n", "staged\n", "uncommitted\n", "other\n"} {
		want[hash(s)] = true
	}
	got, err := Find(context.Background(), project, []string{"internal/a.go"}, want)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"v1\n", "v2\n", "on a branch\n", "staged\n"} {
		if string(got[hash(s)]) != s {
			t.Errorf("%q not found", s)
		}
	}
	for _, s := range []string{"uncommitted\n", "other\n"} {
		if _, ok := got[hash(s)]; ok {
			t.Errorf("%q found, though no version of the path holds it", s)
		}
	}
}

// TestOutsideRepository: no repository is no error and finds nothing.
func TestOutsideRepository(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	got, err := Find(context.Background(), dir, []string{"a.go"}, map[string]bool{hash("x"): true})
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
}
