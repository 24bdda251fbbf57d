// Package render plans the files of a service provider repository: which
// templates render to which paths, who owns each file, and the data the
// templates see.
package render

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path"
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
	// Helm: the domain service is installed as a Helm chart through Flux.
	Helm          bool
	Sample        bool
	SecretWatcher bool

	// Components name the workload of every reconciled kind, as the
	// ProviderConfig's allow-list does.
	Components []string

	// The partner is the provider's first kind, for tests of another kind
	// beside it on one managed control plane; empty for the first kind.
	// PartnerServedVersion is its newest version when that is not the
	// storage version.
	PartnerKind          string
	PartnerKindLower     string
	PartnerVersion       string
	PartnerServedVersion string

	DomainGroup    string
	DomainKind     string
	DomainPlural   string
	DomainSingular string

	// Spgen is the command that runs the spgen version the project was
	// written with; SpgenPinned says whether that is a release.
	Spgen       string
	SpgenPinned bool
	// SpgenRelease is the released spgen version the project pins, if any.
	SpgenRelease string
	ImageRepo    string
	Owner        string
	// CodeOwners is the team CODEOWNERS names, and ComponentProvider the
	// organisation the OCM component names as its provider.
	CodeOwners        string
	ComponentProvider string
	// ComponentName is the OCM component's name: the module path in lower
	// case, as openMCP names its providers' components.
	ComponentName string
	// ComponentRepository is the OCI repository releases publish the
	// component to: the image's registry path.
	ComponentRepository string
	GoVersion           string
	EnvtestK8sVersion   string
	SetupEnvtestVersion string
	GolangciLintVersion string
	// KubernetesRelease and EtcdRelease are the exact releases of the API
	// server binaries the tests build.
	KubernetesRelease string
	EtcdRelease       string
}

// NewData derives the template data of a project for one of its kinds.
func NewData(p *spec.Project, k spec.Kind, g Generation) Data {
	owner := "your-org/your-team"
	org := "your-org"
	image := "ghcr.io/your-org/" + p.RepoName()
	if parts := strings.Split(p.Module, "/"); len(parts) >= 3 && parts[0] == "github.com" {
		owner, org = parts[1], parts[1]
		image = "ghcr.io/" + strings.ToLower(parts[1]) + "/" + p.RepoName()
	}
	domainKind := "Example" + k.Kind
	partner := partnerOf(p, k)
	var components []string
	for _, r := range p.Reconciled() {
		components = append(components, r.Lower())
	}
	return Data{
		Components:           components,
		PartnerKind:          partner.Kind,
		PartnerKindLower:     partner.Lower(),
		PartnerVersion:       partner.Version,
		PartnerServedVersion: newestServed(p, partner),

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
		Helm:                 p.Options.Helm(),
		Sample:               p.Options.Sample,
		SecretWatcher:        p.Options.SecretWatcher,

		DomainGroup:    p.Group + ".example.open-control-plane.io",
		DomainKind:     domainKind,
		DomainPlural:   strings.ToLower(flect.Pluralize(domainKind)),
		DomainSingular: strings.ToLower(domainKind),

		ImageRepo:           image,
		Owner:               owner,
		CodeOwners:          org + "/" + p.RepoName() + "-maintainers",
		ComponentProvider:   org,
		ComponentName:       strings.ToLower(p.Module),
		ComponentRepository: path.Dir(image),
		GoVersion:           g.Stack.GoVersion,
		EnvtestK8sVersion:   g.Stack.EnvtestKubernetes,
		SetupEnvtestVersion: g.Stack.SetupEnvtest,
		GolangciLintVersion: g.Stack.GolangciLint,
		KubernetesRelease:   g.Stack.Kubernetes,
		EtcdRelease:         g.Stack.Etcd,
	}
}

// spgenModule is where released spgen versions are fetched from.
const spgenModule = "github.com/open-control-plane/spgen/cmd/spgen"

// spgenCommand pins a released spgen with `go run`, so a provider's
// Taskfile and CI need nothing installed. A development build has no
// version to pin: the project runs the spgen on PATH (generations 3 to 6
// ran the latest release instead).
func spgenCommand(g Generation, version string) string {
	switch {
	case semver.IsValid(version):
		return "go run " + spgenModule + "@" + version
	case g.number >= 3 && g.number <= 6:
		// Module proxies may refuse @latest, and a later release fails
		// `generate --check` without any change of the user's.
		return "go run " + spgenModule + "@latest"
	}
	return "spgen"
}

// partnerOf is the first kind of p when k is another one.
func partnerOf(p *spec.Project, k spec.Kind) spec.Kind {
	if first := p.Reconciled()[0]; first.Kind != k.Kind {
		return first
	}
	return spec.Kind{}
}

// newestServed is the last version of k's kind listed in p, when that is
// not k's own.
func newestServed(p *spec.Project, k spec.Kind) string {
	newest := k.Version
	for _, other := range p.Kinds {
		if other.Kind == k.Kind {
			newest = other.Version
		}
	}
	if newest == k.Version {
		return ""
	}
	return newest
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
	// since and until are the first and last template generations that
	// write the file; zero means from the first, or still.
	since, until int
}

func scaffolded(tmpl, out string, when func(Data) bool) file {
	return file{tmpl: tmpl, out: out, owner: scaffold.Scaffolded, when: when}
}

func generated(tmpl, out string, when func(Data) bool) file {
	return file{tmpl: tmpl, out: out, owner: scaffold.Generated, when: when}
}

// from marks a file that generation n added.
func (f file) from(n int) file { f.since = n; return f }

func always(Data) bool       { return true }
func withSample(d Data) bool { return d.Sample }
func servedOnly(d Data) bool { return d.Version != d.StorageVersion }
func withHelm(d Data) bool   { return d.Helm }

// projectFiles are rendered once per project, with the data of its first kind.
var projectFiles = []file{
	scaffolded("repo/README.md.tmpl", "README.md", always),
	scaffolded("repo/Taskfile.yaml.tmpl", "Taskfile.yaml", always),
	scaffolded("repo/Dockerfile.tmpl", "Dockerfile", always),
	scaffolded("repo/dockerignore.tmpl", ".dockerignore", always),
	scaffolded("repo/gitignore.tmpl", ".gitignore", always),
	scaffolded("repo/golangci.yaml.tmpl", ".golangci.yaml", always),
	scaffolded("repo/CODEOWNERS.tmpl", "CODEOWNERS", always),
	scaffolded("repo/LICENSE.tmpl", "LICENSE", always).from(7),
	scaffolded("repo/LICENSE.tmpl", "LICENSES/Apache-2.0.txt", always).from(7),
	scaffolded("repo/REUSE.toml.tmpl", "REUSE.toml", always).from(7),
	scaffolded("repo/VERSION.tmpl", "VERSION", always).from(7),
	scaffolded("repo/renovate.json.tmpl", "renovate.json", always).from(7),
	scaffolded("repo/component-constructor.yaml.tmpl", "component-constructor.yaml", always).from(7),
	scaffolded("repo/workflows/ci.yaml.tmpl", ".github/workflows/ci.yaml", always),
	scaffolded("repo/workflows/release.yaml.tmpl", ".github/workflows/release.yaml", always),
	scaffolded("repo/workflows/spgen-upgrade.yaml.tmpl", ".github/workflows/spgen-upgrade.yaml", always).from(8),
	scaffolded("hack/boilerplate.go.txt.tmpl", "hack/boilerplate.go.txt", always),
	scaffolded("cmd/main.go.tmpl", "cmd/{{.RepoName}}/main.go", always),
	generated("api/crds.go.tmpl", "api/crds/crds.go", always),
	generated("provider/deps.go.tmpl", "internal/provider/deps.go", always).from(3),
	generated("apiserver/apiserver.go.tmpl", "test/apiserver/apiserver.go", always).from(3),
	generated("apiserver/build.go.tmpl", "test/apiserver/build.go", always).from(7),
	generated("managed/managed.go.tmpl", "internal/managed/managed.go", always).from(4),
	generated("managed/managed_test.go.tmpl", "internal/managed/managed_test.go", always).from(4),
	generated("managed/permissions.go.tmpl", "internal/managed/permissions.go", always).from(7),
	generated("managed/permissions_test.go.tmpl", "internal/managed/permissions_test.go", always).from(7),
	generated("local/openmcp.go.tmpl", "test/local/openmcp.go", always).from(5),
	generated("local/standin.go.tmpl", "test/local/standin.go", always).from(5),
	generated("local/flux.go.tmpl", "test/local/flux.go", withHelm).from(5),
	generated("helmchart/render.go.tmpl", "test/helmchart/render.go", withHelm).from(9),
	scaffolded("helmchart/chart/Chart.yaml.tmpl", "test/chart/Chart.yaml", withHelm).from(9),
	scaffolded("helmchart/chart/values.yaml.tmpl", "test/chart/values.yaml", withHelm).from(9),
	scaffolded("helmchart/chart/templates/helpers.tpl.tmpl", "test/chart/templates/_helpers.tpl", withHelm).from(9),
	scaffolded("helmchart/chart/templates/serviceaccount.yaml.tmpl", "test/chart/templates/serviceaccount.yaml", withHelm).from(9),
	scaffolded("helmchart/chart/templates/configmap.yaml.tmpl", "test/chart/templates/configmap.yaml", withHelm).from(9),
	scaffolded("helmchart/chart/templates/service.yaml.tmpl", "test/chart/templates/service.yaml", withHelm).from(9),
	scaffolded("helmchart/chart/templates/deployment.yaml.tmpl", "test/chart/templates/deployment.yaml", withHelm).from(9),
	scaffolded("helmchart/chart/templates/clusterrole.yaml.tmpl", "test/chart/templates/clusterrole.yaml", withHelm).from(9),
	scaffolded("helmchart/chart/templates/clusterrolebinding.yaml.tmpl", "test/chart/templates/clusterrolebinding.yaml", withHelm).from(9),
	generated("local/audit.go.tmpl", "test/local/audit.go", always).from(5),
	generated("local/provider.go.tmpl", "test/local/provider.go", always).from(5),
	generated("local/wait.go.tmpl", "test/local/wait.go", always).from(5),
	generated("local/dev/main.go.tmpl", "test/local/dev/main.go", always).from(5),
	scaffolded("local/main_test.go.tmpl", "test/local/main_test.go", always).from(5),
	scaffolded("local/provider_test.go.tmpl", "test/local/provider_test.go", always).from(5),
	scaffolded("controller/common.go.tmpl", "internal/controller/common.go", always),
	scaffolded("controller/lifecycle.go.tmpl", "internal/controller/lifecycle.go", always).from(10),
	scaffolded("controller/helm.go.tmpl", "internal/controller/helm.go", withHelm).from(4),
	scaffolded("controller/release_test.go.tmpl", "internal/controller/release_test.go", withHelm).from(9),
	scaffolded("controller/versions_test.go.tmpl", "internal/controller/versions_test.go", withHelm).from(9),
	scaffolded("samples/providerconfig.yaml.tmpl", "config/samples/providerconfig.yaml", always),
	scaffolded("deploy/serviceprovider.yaml.tmpl", "config/deploy/serviceprovider.yaml", always).from(7),
	generated("release/component_test.go.tmpl", "test/release/component_test.go", always).from(7),
	scaffolded("controller/suite_test.go.tmpl", "internal/controller/suite_test.go", always),
	scaffolded("controller/harness_test.go.tmpl", "internal/controller/harness_test.go", always),
	scaffolded("controller/samples_test.go.tmpl", "internal/controller/samples_test.go", always).from(6),
	scaffolded("e2e/main_test.go.tmpl", "test/e2e/main_test.go", always),
	scaffolded("e2e/platform_providerconfig.yaml.tmpl", "test/e2e/platform/providerconfig.yaml", always),
}

// versionFiles are rendered once per API version.
var versionFiles = []file{
	scaffolded("api/groupversion_info.go.tmpl", "api/{{.Version}}/groupversion_info.go", always),
	scaffolded("api/common_types.go.tmpl", "api/{{.Version}}/common_types.go", always),
	scaffolded("api/providerconfig_types.go.tmpl", "api/{{.Version}}/providerconfig_types.go", always),
}

// typeFiles are rendered once per version of a kind.
var typeFiles = []file{
	scaffolded("api/types.go.tmpl", "api/{{.Version}}/{{.KindLower}}_types.go", always),
	scaffolded("samples/kind.yaml.tmpl", "config/samples/{{.Version}}_{{.KindLower}}.yaml", always),
	scaffolded("controller/version_test.go.tmpl", "internal/controller/{{.KindLower}}_{{.Version}}_test.go", servedOnly),
}

// reconciledVersionFiles are rendered once per API version with a kind
// the provider reconciles.
var reconciledVersionFiles = []file{
	scaffolded("controller/resources.go.tmpl", "internal/controller/{{.Version}}_resources.go", always).from(10),
}

// reconcilerFiles are rendered once per kind, for its storage version.
var reconcilerFiles = []file{
	scaffolded("controller/controller.go.tmpl", "internal/controller/{{.KindLower}}_controller.go", always),
	scaffolded("controller/controller_test.go.tmpl", "internal/controller/{{.KindLower}}_controller_test.go", always),
	scaffolded("controller/helm_test.go.tmpl", "internal/controller/{{.KindLower}}_helm_test.go", withHelm).from(4),
	scaffolded("controller/domain.go.tmpl", "internal/controller/{{.KindLower}}_domain.go", withSample),
	scaffolded("e2e/provider_test.go.tmpl", "test/e2e/{{.KindLower}}_test.go", always),
	scaffolded("e2e/onboarding_kind.yaml.tmpl", "test/e2e/onboarding/{{.KindLower}}.yaml", always),
	scaffolded("local/kind_test.go.tmpl", "test/local/{{.KindLower}}_test.go", always).from(5),
}

// Render plans every scaffolded file of p, plus go.mod, go.sum and spgen.yaml.
// Generated code (deepcopy, CRDs, wiring) is added later by codegen.
func Render(p *spec.Project) (*scaffold.Tree, error) { return RenderWith(p, Current, "") }

// Validate is the one check of a project spgen is asked to write with
// generation g: the inputs' own rules (spec), then what g can render, then
// the names the templates derive (files and declarations of a kind that
// would collide with the scaffold's or another kind's). Every problem is bad
// input.
func Validate(p *spec.Project, g Generation) error {
	_, err := RenderWith(p, g, "")
	return err
}

// Check is Validate with the current generation, the check of a project's
// spgen.yaml when a command opens it.
func Check(p *spec.Project) error { return Validate(p, Current) }

// RenderWith renders p with the templates and stack of generation g, as
// spgen version spgenVersion writes it (the version pins spgen in the
// project's Taskfile and CI). It renders only a valid project: everything
// Validate describes is checked first, or, for a kind whose files or
// declarations would collide with the scaffold's own or another kind's,
// while rendering.
func RenderWith(p *spec.Project, g Generation, spgenVersion string) (*scaffold.Tree, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := checkDerivedNames(p, g); err != nil {
		return nil, err
	}
	if err := g.Supports(p); err != nil {
		return nil, err
	}
	set, err := g.templates()
	if err != nil {
		return nil, err
	}
	r := &renderer{tree: scaffold.NewTree(), gen: g, set: set, origin: map[string]int{}}
	first := NewData(p, p.Kinds[0], g)
	first.Spgen = spgenCommand(g, spgenVersion)
	first.SpgenPinned = semver.IsValid(spgenVersion)
	if first.SpgenPinned {
		first.SpgenRelease = spgenVersion
	}
	if err := r.renderAll(projectFiles, first, -1); err != nil {
		return nil, err
	}
	seenVersion, reconciledVersion := map[string]bool{}, map[string]bool{}
	for i, k := range p.Kinds {
		d := NewData(p, k, g)
		if !seenVersion[k.Version] {
			seenVersion[k.Version] = true
			if err := r.renderAll(versionFiles, d, -1); err != nil {
				return nil, err
			}
		}
		if err := r.renderAll(typeFiles, d, i); err != nil {
			return nil, err
		}
		if p.IsStorage(k) && !reconciledVersion[k.Version] {
			reconciledVersion[k.Version] = true
			if err := r.renderAll(reconciledVersionFiles, d, -1); err != nil {
				return nil, err
			}
		}
		if p.IsStorage(k) {
			if err := r.renderAll(reconcilerFiles, d, i); err != nil {
				return nil, err
			}
		}
	}
	if err := r.checkDeclarations(p); err != nil {
		return nil, err
	}
	t := r.tree
	if p.Options.Helm() {
		if err := addFluxCRDs(t, g); err != nil {
			return nil, err
		}
	}
	t.Add("go.mod", g.Stack.GoMod(p.Module, p.Options.Helm()), scaffold.Scaffolded)
	t.Add("go.sum", g.Stack.GoSum(p.Options.Helm()), scaffold.Scaffolded)
	specFile, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	t.Add(spec.FileName, specFile, scaffold.Scaffolded)
	return t, nil
}

// helmSince is the first generation that installs Helm charts.
const helmSince = 4

// Supports reports, as bad input, an option of p that g cannot render.
func (g Generation) Supports(p *spec.Project) error {
	if p.Options.Helm() && (g.number < helmSince || !g.Stack.HasHelm()) {
		return &spec.InputError{Msg: fmt.Sprintf("templates generation %s predates --deploy %s", g.Name, spec.DeployHelm)}
	}
	if !g.Stored() {
		return &spec.InputError{Msg: fmt.Sprintf("templates generation %s is no longer stored by this spgen (it keeps generation %d and newer); spgen upgrade takes what it wrote from the project's git history", g.Name, oldestStored)}
	}
	return nil
}

// FluxCRDDir holds the CRDs of Flux's OCIRepository and HelmRelease in a
// project that installs a Helm chart; its tests install them.
const FluxCRDDir = "test/flux"

func addFluxCRDs(t *scaffold.Tree, g Generation) error {
	for _, c := range stack.FluxCRDs {
		data, err := stack.FluxCRD(c.File)
		if err != nil {
			return err
		}
		t.Add(FluxCRDDir+"/"+c.File, data, scaffold.Generated)
	}
	return nil
}

// renderer renders templates into a tree and remembers which kind each
// file was rendered for (-1: the project or an API version).
type renderer struct {
	tree   *scaffold.Tree
	gen    Generation
	set    *template.Template
	origin map[string]int
}

func (r *renderer) renderAll(files []file, d Data, kind int) error {
	for _, f := range files {
		if !r.gen.writes(f) || !f.when(d) {
			continue
		}
		out, err := execute(template.Must(template.New("path").Option("missingkey=error").Parse(f.out)), d)
		if err != nil {
			return fmt.Errorf("path of %s: %w", f.tmpl, err)
		}
		path := string(out)
		if prev, ok := r.origin[path]; ok {
			return spec.KindError(max(kind, prev), d.Kind, fmt.Sprintf("its file %s would replace one the scaffold already writes there; choose another kind name", path))
		}
		tmpl := r.set.Lookup(f.tmpl)
		if tmpl == nil {
			return fmt.Errorf("template %s not found", f.tmpl)
		}
		body, err := execute(tmpl, d)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".go") {
			// Conditional template sections leave layout gofmt would change;
			// formatting here guarantees gofmt-clean output.
			if body, err = format.Source(body); err != nil {
				return fmt.Errorf("template %s produced invalid Go: %w", f.tmpl, err)
			}
		}
		r.tree.Add(path, body, f.owner)
		r.origin[path] = kind
	}
	return nil
}

// checkDeclarations finds identifiers two rendered files of one package
// both declare: a kind named after something the scaffold declares (or
// after another kind's derived names) would not compile.
func (r *renderer) checkDeclarations(p *spec.Project) error {
	type decl struct {
		path string
		kind int
	}
	seen := map[string]decl{} // package + identifier -> first declaration
	fset := token.NewFileSet()
	for _, filePath := range r.tree.Paths() {
		if !strings.HasSuffix(filePath, ".go") {
			continue
		}
		f, _ := r.tree.Get(filePath)
		file, err := parser.ParseFile(fset, filePath, f.Content, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("%s: %w", filePath, err)
		}
		pkg := path.Dir(filePath) + " " + file.Name.Name
		for _, name := range topLevel(file) {
			key := pkg + " " + name
			here := decl{filePath, r.origin[filePath]}
			prev, ok := seen[key]
			if !ok {
				seen[key] = here
				continue
			}
			blame := max(here.kind, prev.kind)
			if blame < 0 {
				return fmt.Errorf("templates declare %s in both %s and %s", name, prev.path, filePath)
			}
			return spec.KindError(blame, p.Kinds[blame].Kind, fmt.Sprintf("would declare %s in %s, which %s already declares; choose another kind name", name, filePath, prev.path))
		}
	}
	return nil
}

// topLevel lists the package-level names a file declares; methods are
// named after their receiver type.
func topLevel(f *ast.File) []string {
	var out []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				if d.Name.Name != "init" && d.Name.Name != "_" {
					out = append(out, d.Name.Name)
				}
				continue
			}
			if len(d.Recv.List) == 1 {
				out = append(out, receiverName(d.Recv.List[0].Type)+"."+d.Name.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					out = append(out, s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name != "_" {
							out = append(out, n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

func receiverName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return receiverName(t.X)
	case *ast.IndexExpr:
		return receiverName(t.X)
	case *ast.IndexListExpr:
		return receiverName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}

func execute(t *template.Template, d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return b.Bytes(), nil
}
