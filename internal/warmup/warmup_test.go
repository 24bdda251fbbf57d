package warmup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/progress"
)

// TestEnsureWarmsTheUsersBuild: what Ensure compiles is what the user's own
// go build and go test reuse. In an empty build cache, after Ensure, the go
// command (with its default flags) reports no dependency of the module or
// its tests as stale. Compiling with other flags (-trimpath, say) would
// leave every one of them stale: the flags are part of each compile's cache
// key.
func TestEnsureWarmsTheUsersBuild(t *testing.T) {
	// The go command's environment is read once per process: set it before
	// anything runs one.
	t.Setenv("GOCACHE", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("GOPROXY", "off") // golang.org/x/mod is in the module cache: spgen needs it
	dir := t.TempDir()
	write(t, dir, "go.mod", "module example.com/warm\n\ngo 1.26\n\nrequire golang.org/x/mod v0.38.0\n")
	write(t, dir, "main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/mod/semver\"\n)\n\nfunc main() { fmt.Println(semver.IsValid(\"v1\")) }\n")
	write(t, dir, "main_test.go", "package main\n\nimport \"testing\"\n\nfunc TestMain(t *testing.T) {}\n")
	write(t, dir, "go.sum", "golang.org/x/mod v0.38.0 h1:MECBjubtXD7yj4HrhIUcywNaGeNVUdfVnxmPajOk4yk=\ngolang.org/x/mod v0.38.0/go.mod h1:V6Xz0pq8TQ3dGqVQ1FVHuelZpAL0uNhSkk9ogYP3c40=\n")
	if err := Ensure(context.Background(), dir, progress.New(nil)); err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, line := range strings.Split(goIn(t, dir, "list", "-deps", "-test", "-f", "{{if .Stale}}{{.ImportPath}}: {{.StaleReason}}{{end}}", "./..."), "\n") {
		if line != "" && !strings.HasPrefix(line, "example.com/warm") {
			stale = append(stale, line)
		}
	}
	if len(stale) > 0 {
		t.Errorf("%d dependencies would be compiled again by the user's go build, e.g. %s", len(stale), stale[0])
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func goIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
