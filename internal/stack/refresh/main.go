// Command refresh rewrites the stored go.mod and go.sum of generated projects
// from stack.Direct. It needs the module proxy; run it after changing a
// pinned version, review the diff, and regenerate the golden trees:
//
//	go run ./internal/stack/refresh && go test ./... -update
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/open-control-plane/spgen/internal/codegen"
	"github.com/open-control-plane/spgen/internal/project"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "refresh:", err)
		os.Exit(1)
	}
}

func run() error {
	p := &spec.Project{
		Module:       stack.Placeholder(),
		Group:        "refresh",
		ProviderName: "refresh",
		Options:      spec.Options{WorkloadCluster: true, SecretWatcher: true, Sample: true},
		Kinds:        []spec.Kind{{Kind: "Refresh", Version: spec.DefaultVersion}},
	}
	tree, err := project.Render(p)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "spgen-refresh-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	write := func(rel string, content []byte) error {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		return os.WriteFile(full, content, 0o644)
	}
	for _, path := range tree.Paths() {
		f, _ := tree.Get(path)
		if err := write(path, f.Content); err != nil {
			return err
		}
	}
	var mod bytes.Buffer
	fmt.Fprintf(&mod, "module %s\n\ngo %s\n\nrequire (\n", p.Module, stack.GoVersion)
	for _, m := range stack.Direct {
		fmt.Fprintf(&mod, "\t%s %s\n", m.Path, m.Version)
	}
	mod.WriteString(")\n")
	if err := write("go.mod", mod.Bytes()); err != nil {
		return err
	}
	_ = write("go.sum", nil)
	// The first tidy tolerates the generated packages that do not exist yet.
	if err := goCmd(dir, "mod", "tidy", "-e"); err != nil {
		return err
	}
	generated, err := codegen.Generate(context.Background(), dir, p, nil)
	if err != nil {
		return err
	}
	for path, content := range generated {
		if err := write(path, content); err != nil {
			return err
		}
	}
	if err := goCmd(dir, "mod", "tidy"); err != nil {
		return err
	}
	for _, m := range stack.Direct {
		data, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
		if !strings.Contains(string(data), m.Path+" "+m.Version) {
			return fmt.Errorf("go mod tidy moved %s off the pinned %s; pin the version it needs", m.Path, m.Version)
		}
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join("internal", "stack", name+".txt"), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Println("refreshed internal/stack/go.mod.txt and go.sum.txt")
	return nil
}

func goCmd(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
