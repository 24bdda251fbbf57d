// Package codegen produces every generated artifact of a provider from its
// sources: deepcopy code, CRDs and the permission rules (controller-tools,
// in-process), and the wiring package (jennifer).
package codegen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/tools/go/packages"
	"sigs.k8s.io/controller-tools/pkg/crd"
	"sigs.k8s.io/controller-tools/pkg/deepcopy"
	"sigs.k8s.io/controller-tools/pkg/genall"
	"sigs.k8s.io/controller-tools/pkg/loader"
	"sigs.k8s.io/controller-tools/pkg/rbac"
)

// Paths of generated artifacts inside a provider.
const (
	CRDDir        = "api/crds/manifests"
	RoleFile      = "config/rbac/role.yaml"
	BoilerplateGo = "hack/boilerplate.go.txt"
	roleName      = "target-cluster-role"
)

// Error is a failure of code generation in the user's sources.
type Error struct{ Msg string }

func (e *Error) Error() string { return "code generation failed:\n" + e.Msg }

// capture collects every artifact in memory, keyed by path relative to the
// project root, so nothing is written unless the whole run succeeds.
type capture struct {
	root  string
	base  string // directory of config artifacts; empty for code next to its package
	files map[string]*bytes.Buffer
	mu    *sync.Mutex // runs share files
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (c *capture) Open(pkg *loader.Package, itemPath string) (io.WriteCloser, error) {
	var rel string
	if c.base != "" || pkg == nil {
		rel = path.Join(c.base, itemPath)
	} else {
		if len(pkg.CompiledGoFiles) == 0 {
			return nil, fmt.Errorf("package %s has no Go files", pkg.PkgPath)
		}
		dir, err := filepath.Rel(c.root, filepath.Dir(pkg.CompiledGoFiles[0]))
		if err != nil {
			return nil, err
		}
		rel = path.Join(filepath.ToSlash(dir), itemPath)
	}
	b := &bytes.Buffer{}
	c.mu.Lock()
	c.files[rel] = b
	c.mu.Unlock()
	return nopCloser{b}, nil
}

// controllerTools runs deepcopy, CRD and RBAC generation over the sources in
// dir and returns the artifacts by relative path. The API packages and the
// controller package are loaded by two runs at once: the controller's
// dependency graph is three times the API's, and its markers are all RBAC
// needs from it.
func controllerTools(ctx context.Context, dir, module string, versions []string) (map[string][]byte, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]*bytes.Buffer{}
	var mu sync.Mutex
	code := &capture{root: absDir, files: files, mu: &mu}
	crds := &capture{root: absDir, base: CRDDir, files: files, mu: &mu}
	roles := &capture{root: absDir, base: path.Dir(RoleFile), files: files, mu: &mu}

	deepcopyGen := genall.Generator(deepcopy.Generator{HeaderFile: filepath.Join(absDir, BoilerplateGo)})
	crdGen := genall.Generator(crd.Generator{})
	rbacGen := genall.Generator(rbac.Generator{RoleName: roleName, FileName: path.Base(RoleFile)})
	// Version packages are named one by one: ./api/... would include the CRD
	// embed package, which does not compile before its manifests exist. They
	// are named by import path: controller-tools loads directory roots one by
	// one, parsing and type-checking their shared dependencies once per
	// version, but import paths together.
	var apiRoots []string
	for _, v := range versions {
		apiRoots = append(apiRoots, module+"/api/"+v)
	}
	runs := []struct {
		gens  genall.Generators
		roots []string
		rules genall.OutputRules
	}{
		{genall.Generators{&deepcopyGen, &crdGen}, apiRoots, genall.OutputRules{Default: code, ByGenerator: map[*genall.Generator]genall.OutputRule{&crdGen: crds}}},
		{genall.Generators{&rbacGen}, []string{module + "/internal/controller"}, genall.OutputRules{Default: roles}},
	}
	msgs := make([][]string, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt, err := r.gens.ForRootsWithConfig(&packages.Config{Context: ctx, Dir: absDir}, r.roots...)
			if err != nil {
				msgs[i] = []string{"loading packages: " + err.Error()}
				return
			}
			rt.OutputRules = r.rules
			msgs[i] = run(rt)
		}()
	}
	wg.Wait()
	if all := append(msgs[0], msgs[1]...); len(all) > 0 {
		return nil, &Error{Msg: relativize(strings.Join(all, "\n"), absDir)}
	}
	out := make(map[string][]byte, len(files))
	for p, b := range files {
		content := b.Bytes()
		if strings.HasSuffix(p, ".yaml") {
			content = pinVersionAnnotation(content)
		}
		out[p] = content
	}
	return out, nil
}

// run is genall.Runtime.Run, except that errors are returned instead of
// printed to the process's stderr. Type errors are left out as Run leaves
// them out: the CRD generator type-checks partially, and the type-check
// after generation reports real ones with their positions.
func run(rt *genall.Runtime) []string {
	var msgs []string
	for _, gen := range rt.Generators {
		ctx := rt.GenerationContext
		ctx.OutputRule = rt.OutputRules.ForGenerator(gen)
		if _, ok := (*gen).(genall.NeedsTypeChecking); !ok {
			ctx.Checker = nil
		}
		if err := (*gen).Generate(&ctx); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	raw := make([]*packages.Package, len(rt.Roots))
	for i, p := range rt.Roots {
		raw[i] = p.Package
	}
	seen := map[string]bool{}
	packages.Visit(raw, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			if e.Kind != packages.TypeError && !seen[e.Error()] {
				seen[e.Error()] = true
				msgs = append(msgs, e.Error())
			}
		}
	})
	return msgs
}

var versionAnnotation = regexp.MustCompile(`(?m)^(\s*controller-gen\.kubebuilder\.io/version:) .*$`)

// pinVersionAnnotation records the controller-tools version that really
// generated the manifest. controller-tools reads it from the main module,
// which would be spgen's own version, and would make the output depend on
// how spgen was built.
func pinVersionAnnotation(content []byte) []byte {
	return versionAnnotation.ReplaceAll(content, []byte("${1} "+ControllerToolsVersion))
}

// ControllerToolsVersion is the version of controller-tools spgen links, as
// required in spgen's go.mod (a test keeps the two in step). Build info
// cannot be used: test binaries carry none, and output must not depend on
// how spgen was built.
const ControllerToolsVersion = "v0.21.0"

// relativize shortens staged absolute paths in messages to project paths.
func relativize(msg, root string) string {
	return strings.ReplaceAll(msg, root+string(filepath.Separator), "")
}
