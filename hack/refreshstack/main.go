// Command refresh rewrites the stored go.mod and go.sum of generated projects
// from stack.Direct. It needs the module proxy; run it after changing a
// pinned version, review the diff, and regenerate the golden trees:
//
//	go run ./hack/refreshstack && go test ./... -update
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-control-plane/spgen/internal/codegen"
	"github.com/open-control-plane/spgen/internal/render"
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
	if err := copyFluxCRDs(); err != nil {
		return err
	}
	for _, deploy := range spec.DeployModes {
		p := &spec.Project{
			Module:       stack.Placeholder(),
			Group:        "refresh",
			ProviderName: "refresh",
			Options:      spec.Options{WorkloadCluster: true, SecretWatcher: true, Sample: true, Deploy: deploy},
			Kinds:        []spec.Kind{{Kind: "Refresh", Version: spec.DefaultVersion}},
		}
		pins := stack.Direct
		out := filepath.Join("internal", "stack")
		if p.Options.Helm() {
			pins = append(slices.Clone(pins), stack.Helm...)
			out = filepath.Join(out, "helm")
		}
		if err := tidy(p, pins, out); err != nil {
			return fmt.Errorf("--deploy %s: %w", deploy, err)
		}
	}
	fmt.Println("refreshed go.mod.txt and go.sum.txt in internal/stack and internal/stack/helm, and the Flux CRDs")
	return nil
}

// tidy renders p, requires pins, runs go mod tidy and stores the result
// in dir.
func tidy(p *spec.Project, pins []stack.Module, dir string) error {
	tree, err := render.Render(p)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "spgen-refresh-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	write := func(rel string, content []byte) error {
		full := filepath.Join(tmp, filepath.FromSlash(rel))
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
	for _, m := range pins {
		fmt.Fprintf(&mod, "\t%s %s\n", m.Path, m.Version)
	}
	mod.WriteString(")\n")
	if err := write("go.mod", mod.Bytes()); err != nil {
		return err
	}
	_ = write("go.sum", nil)
	// The first tidy tolerates the generated packages that do not exist yet.
	if err := goCmd(tmp, "mod", "tidy", "-e"); err != nil {
		return err
	}
	generated, err := codegen.Generate(context.Background(), tmp, p, nil)
	if err != nil {
		return err
	}
	for path, content := range generated {
		if err := write(path, content); err != nil {
			return err
		}
	}
	if err := goCmd(tmp, "mod", "tidy"); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(tmp, "go.mod"))
	if err != nil {
		return err
	}
	for _, m := range pins {
		if !strings.Contains(string(data), m.Path+" "+m.Version) {
			return fmt.Errorf("go mod tidy moved %s off the pinned %s; pin the version it needs", m.Path, m.Version)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyFluxCRDs stores the CRDs of the pinned Flux releases, which the
// tests of Helm projects install.
func copyFluxCRDs() error {
	for _, c := range stack.FluxCRDs {
		out, err := exec.Command("go", "mod", "download", "-json", c.Module.Path+"@"+c.Module.Version).Output()
		if err != nil {
			return fmt.Errorf("downloading %s@%s: %w", c.Module.Path, c.Module.Version, err)
		}
		var info struct{ Dir string }
		if err := json.Unmarshal(out, &info); err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(info.Dir, "config", "crd", "bases", c.File))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join("internal", "stack", "flux", c.File), data, 0o644); err != nil {
			return err
		}
	}
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
