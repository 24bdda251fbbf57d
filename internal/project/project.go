// Package project plans the files of a service provider repository: which
// templates render to which paths, who owns each file, and the data the
// templates see.
package project

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
	"text/template"

	"github.com/gobuffalo/flect"
	"golang.org/x/mod/semver"

	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/stack"
)

// Data is what templates see. Every string in it has passed spec validation
// or is derived from validated input, so none can carry template syntax or
// path separators.
type Data struct {
	Module       string
	RepoName     string
	Group        string
	APIGroup     string
	ProviderName string
	Version      string
	// VersionExported is Version for use inside identifiers (V1alpha1).
	VersionExported string
	// StorageVersion is the version the API server stores the kind in.
	StorageVersion string
	// ConfigStorageVersion is the version the ProviderConfig is stored in.
	ConfigStorageVersion string
	Kind                 string
	KindLower            string
	Plural               string
	Workload             bool
	Sample               bool
	SecretWatcher        bool

	DomainGroup    string
	DomainKind     string
	DomainPlural   string
	DomainSingular string

	// Spgen is the command that runs the spgen version the project was
	// written with.
	Spgen               string
	ImageRepo           string
	Owner               string
	GoVersion           string
	EnvtestK8sVersion   string
	SetupEnvtestVersion string
}

// NewData derives the template data of a project for one of its kinds.
func NewData(p *spec.Project, k spec.Kind) Data {
	owner := "your-org/your-team"
	image := "ghcr.io/your-org/" + p.RepoName()
	if parts := strings.Split(p.Module, "/"); len(parts) >= 3 && parts[0] == "github.com" {
		owner = parts[1]
		image = "ghcr.io/" + strings.ToLower(parts[1]) + "/" + p.RepoName()
	}
	domainKind := "Example" + k.Kind
	return Data{
		Module:               p.Module,
		RepoName:             p.RepoName(),
		Group:                p.Group,
		APIGroup:             p.APIGroup(),
		ProviderName:         p.ProviderName,
		Version:              k.Version,
		VersionExported:      strings.ToUpper(k.Version[:1]) + k.Version[1:],
		StorageVersion:       storageVersion(p, k),
		ConfigStorageVersion: p.Versions()[0],
		Kind:                 k.Kind,
		KindLower:            k.Lower(),
		Plural:               k.Plural(),
		Workload:             p.Options.WorkloadCluster,
		Sample:               p.Options.Sample,
		SecretWatcher:        p.Options.SecretWatcher,

		DomainGroup:    p.Group + ".example.open-control-plane.io",
		DomainKind:     domainKind,
		DomainPlural:   strings.ToLower(flect.Pluralize(domainKind)),
		DomainSingular: strings.ToLower(domainKind),

		ImageRepo:           image,
		Owner:               owner,
		GoVersion:           stack.GoVersion,
		EnvtestK8sVersion:   stack.EnvtestKubernetes,
		SetupEnvtestVersion: stack.SetupEnvtest,
	}
}

// spgenModule is where released spgen versions are fetched from.
const spgenModule = "github.com/open-control-plane/spgen/cmd/spgen"

// spgenCommand pins a released spgen with `go run`, so a provider's
// Taskfile and CI need nothing installed; a development build is expected
// on PATH.
func spgenCommand(version string) string {
	if semver.IsValid(version) {
		return "go run " + spgenModule + "@" + version
	}
	return "spgen"
}

func storageVersion(p *spec.Project, k spec.Kind) string {
	for _, r := range p.Reconciled() {
		if r.Kind == k.Kind {
			return r.Version
		}
	}
	return k.Version
}

// file maps one template to one output path.
type file struct {
	tmpl  string // path under templates/project
	out   string // output path; a template itself
	owner scaffold.Owner
	when  func(Data) bool
}

func always(Data) bool       { return true }
func withSample(d Data) bool { return d.Sample }
func servedOnly(d Data) bool { return d.Version != d.StorageVersion }

// projectFiles are rendered once per project, with the data of its first kind.
var projectFiles = []file{
	{"repo/README.md.tmpl", "README.md", scaffold.Scaffolded, always},
	{"repo/Taskfile.yaml.tmpl", "Taskfile.yaml", scaffold.Scaffolded, always},
	{"repo/Dockerfile.tmpl", "Dockerfile", scaffold.Scaffolded, always},
	{"repo/dockerignore.tmpl", ".dockerignore", scaffold.Scaffolded, always},
	{"repo/gitignore.tmpl", ".gitignore", scaffold.Scaffolded, always},
	{"repo/golangci.yaml.tmpl", ".golangci.yaml", scaffold.Scaffolded, always},
	{"repo/CODEOWNERS.tmpl", "CODEOWNERS", scaffold.Scaffolded, always},
	{"repo/workflows/ci.yaml.tmpl", ".github/workflows/ci.yaml", scaffold.Scaffolded, always},
	{"repo/workflows/release.yaml.tmpl", ".github/workflows/release.yaml", scaffold.Scaffolded, always},
	{"hack/boilerplate.go.txt.tmpl", "hack/boilerplate.go.txt", scaffold.Scaffolded, always},
	{"cmd/main.go.tmpl", "cmd/{{.RepoName}}/main.go", scaffold.Scaffolded, always},
	{"api/crds.go.tmpl", "api/crds/crds.go", scaffold.Generated, always},
	{"controller/common.go.tmpl", "internal/controller/common.go", scaffold.Scaffolded, always},
	{"samples/providerconfig.yaml.tmpl", "config/samples/providerconfig.yaml", scaffold.Scaffolded, always},
	{"controller/suite_test.go.tmpl", "internal/controller/suite_test.go", scaffold.Scaffolded, always},
	{"controller/harness_test.go.tmpl", "internal/controller/harness_test.go", scaffold.Scaffolded, always},
	{"e2e/main_test.go.tmpl", "test/e2e/main_test.go", scaffold.Scaffolded, always},
	{"e2e/platform_providerconfig.yaml.tmpl", "test/e2e/platform/providerconfig.yaml", scaffold.Scaffolded, always},
}

// versionFiles are rendered once per API version.
var versionFiles = []file{
	{"api/groupversion_info.go.tmpl", "api/{{.Version}}/groupversion_info.go", scaffold.Scaffolded, always},
	{"api/common_types.go.tmpl", "api/{{.Version}}/common_types.go", scaffold.Scaffolded, always},
	{"api/providerconfig_types.go.tmpl", "api/{{.Version}}/providerconfig_types.go", scaffold.Scaffolded, always},
}

// typeFiles are rendered once per version of a kind.
var typeFiles = []file{
	{"api/types.go.tmpl", "api/{{.Version}}/{{.KindLower}}_types.go", scaffold.Scaffolded, always},
	{"samples/kind.yaml.tmpl", "config/samples/{{.Version}}_{{.KindLower}}.yaml", scaffold.Scaffolded, always},
	{"controller/version_test.go.tmpl", "internal/controller/{{.KindLower}}_{{.Version}}_test.go", scaffold.Scaffolded, servedOnly},
}

// reconcilerFiles are rendered once per kind, for its storage version.
var reconcilerFiles = []file{
	{"controller/controller.go.tmpl", "internal/controller/{{.KindLower}}_controller.go", scaffold.Scaffolded, always},
	{"controller/controller_test.go.tmpl", "internal/controller/{{.KindLower}}_controller_test.go", scaffold.Scaffolded, always},
	{"controller/domain.go.tmpl", "internal/controller/{{.KindLower}}_domain.go", scaffold.Scaffolded, withSample},
	{"e2e/provider_test.go.tmpl", "test/e2e/{{.KindLower}}_test.go", scaffold.Scaffolded, always},
	{"e2e/onboarding_kind.yaml.tmpl", "test/e2e/onboarding/{{.KindLower}}.yaml", scaffold.Scaffolded, always},
}

// Render plans every scaffolded file of p, plus go.mod, go.sum and spgen.yaml.
// Generated code (deepcopy, CRDs, wiring) is added later by codegen.
func Render(p *spec.Project) (*scaffold.Tree, error) { return RenderWith(p, Current, "") }

// RenderWith renders p with the templates and stack of generation g, as
// spgen version spgenVersion writes it (the version pins spgen in the
// project's Taskfile and CI).
func RenderWith(p *spec.Project, g Generation, spgenVersion string) (*scaffold.Tree, error) {
	set, err := g.templates()
	if err != nil {
		return nil, err
	}
	t := scaffold.NewTree()
	first := NewData(p, p.Kinds[0])
	first.Spgen = spgenCommand(spgenVersion)
	if err := renderAll(t, g, set, projectFiles, first); err != nil {
		return nil, err
	}
	seenVersion := map[string]bool{}
	for _, k := range p.Kinds {
		d := NewData(p, k)
		if !seenVersion[k.Version] {
			seenVersion[k.Version] = true
			if err := renderAll(t, g, set, versionFiles, d); err != nil {
				return nil, err
			}
		}
		if err := renderAll(t, g, set, typeFiles, d); err != nil {
			return nil, err
		}
		if p.IsStorage(k) {
			if err := renderAll(t, g, set, reconcilerFiles, d); err != nil {
				return nil, err
			}
		}
	}
	t.Add("go.mod", g.Stack.GoMod(p.Module), scaffold.Scaffolded)
	t.Add("go.sum", g.Stack.GoSum(), scaffold.Scaffolded)
	specFile, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	t.Add(spec.FileName, specFile, scaffold.Scaffolded)
	return t, nil
}

func renderAll(t *scaffold.Tree, g Generation, set *template.Template, files []file, d Data) error {
	for _, f := range files {
		if !f.when(d) {
			continue
		}
		out, err := execute(template.Must(template.New("path").Option("missingkey=error").Parse(g.outPath(f))), d)
		if err != nil {
			return fmt.Errorf("path of %s: %w", f.tmpl, err)
		}
		tmpl := set.Lookup(f.tmpl)
		if tmpl == nil {
			return fmt.Errorf("template %s not found", f.tmpl)
		}
		body, err := execute(tmpl, d)
		if err != nil {
			return err
		}
		if strings.HasSuffix(string(out), ".go") {
			// Conditional template sections leave layout gofmt would change;
			// formatting here guarantees gofmt-clean output.
			if body, err = format.Source(body); err != nil {
				return fmt.Errorf("template %s produced invalid Go: %w", f.tmpl, err)
			}
		}
		t.Add(string(out), body, f.owner)
	}
	return nil
}

func execute(t *template.Template, d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return b.Bytes(), nil
}
