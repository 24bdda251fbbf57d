// Package stack is the one place that pins the dependency set of generated
// providers. go.mod and go.sum of every generated project come from here, so
// `go build` works without `go mod tidy` and, with a warm module cache,
// without the network.
package stack

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
)

// Version names this dependency set. It is recorded in every project's lock
// file so that upgrade knows which stack a project was generated with.
const Version = "2026.12.3"

// GoVersion is the go directive of generated modules: the minimum the
// openMCP runtime needs.
const GoVersion = "1.26.5"

// Direct lists the modules generated code imports, at the versions pinned
// for them. go.mod.txt is `go mod tidy` run on a project requiring these.
var Direct = []Module{
	{"github.com/openmcp-project/controller-utils", "v0.31.0"},
	{"github.com/openmcp-project/opencontrolplane-runtime", "v1.2.0"},
	{"github.com/openmcp-project/openmcp-operator/api", "v1.3.0"},
	{"github.com/openmcp-project/openmcp-operator/lib", "v1.3.0"},
	{"github.com/openmcp-project/openmcp-testing", "v1.2.0"},
	{"github.com/spf13/cobra", "v1.10.2"},
	{"golang.org/x/sys", "v0.49.0"},
	{"k8s.io/api", "v0.37.2"},
	{"k8s.io/apiextensions-apiserver", "v0.37.2"},
	{"k8s.io/apimachinery", "v0.37.2"},
	{"k8s.io/client-go", "v0.37.2"},
	{"k8s.io/klog/v2", "v2.140.0"},
	{"k8s.io/utils", "v0.0.0-20260707023825-cf1189d6abe3"},
	{"sigs.k8s.io/controller-runtime", "v0.25.3"},
	{"sigs.k8s.io/e2e-framework", "v0.7.0"},
}

// Helm lists what a project that installs its domain service as a Helm
// chart (--deploy helm) imports besides Direct: the APIs of Flux's source
// and helm controllers, at the releases whose Kubernetes libraries match
// the stack's, and Helm's SDK.
var Helm = []Module{
	{"github.com/fluxcd/helm-controller/api", "v1.6.3"},
	{"github.com/fluxcd/pkg/apis/meta", "v1.31.0"},
	{"github.com/fluxcd/source-controller/api", "v1.9.4"},
	// The tests render charts with Helm's own packages.
	{"helm.sh/helm/v4", "v4.3.2"},
}

// FluxCRDs are the releases of Flux's controllers whose CRDs (in
// config/crd/bases of the module) the tests of a Helm project install:
// the same releases as the API modules in Helm.
var FluxCRDs = []CRDSource{
	{Module{"github.com/fluxcd/helm-controller", "v1.6.3"}, "helm.toolkit.fluxcd.io_helmreleases.yaml"},
	{Module{"github.com/fluxcd/source-controller", "v1.9.4"}, "source.toolkit.fluxcd.io_ocirepositories.yaml"},
}

// CRDSource is a CRD file in a module's config/crd/bases.
type CRDSource struct {
	Module Module
	File   string
}

// Module is a module path at a version.
type Module struct {
	Path, Version string
}

// EnvtestKubernetes is the Kubernetes version of the API server the
// generated tests run against: the release of the stack's k8s.io modules.
const EnvtestKubernetes = "1.37.x"

// Kubernetes is the release of the API servers the generated tests build
// and run (kube-apiserver from k8s.io/kubernetes at this version), and
// Etcd the etcd release it is tested with.
const (
	Kubernetes = "v1.37.2"
	Etcd       = "v3.7.0"
)

// GolangciLint is the golangci-lint release the generated Taskfile and CI
// lint with; every generated project passes it with its own configuration.
const GolangciLint = "v2.15.0"

// SetupEnvtest is the pinned version of setup-envtest the generated Taskfile
// and CI use to fetch API server binaries.
const SetupEnvtest = "v0.24.1"

// placeholder is the module path go.mod.txt is stored with.
const placeholder = "example.com/spgen/stack"

//go:embed go.mod.txt
var goMod []byte

//go:embed go.sum.txt
var goSum []byte

//go:embed helm/go.mod.txt
var helmGoMod []byte

//go:embed helm/go.sum.txt
var helmGoSum []byte

//go:embed flux
var fluxCRDs embed.FS

// FluxCRD returns the stored copy of a file of FluxCRDs.
func FluxCRD(file string) ([]byte, error) { return fluxCRDs.ReadFile("flux/" + file) }

// Set is one released dependency set: the go.mod and go.sum a project gets.
type Set struct {
	Version string
	// EnvtestKubernetes is the Kubernetes version of the API servers the
	// set's projects test against.
	EnvtestKubernetes string
	// Kubernetes and Etcd are the exact releases of the API server
	// binaries; empty for sets from before the tests built them.
	Kubernetes, Etcd string
	// GoVersion is the go directive of the set's go.mod; SetupEnvtest
	// and GolangciLint the tools the set's Taskfile and CI pin. They
	// belong to the set, so that a newer set never changes what an
	// earlier one renders.
	GoVersion, SetupEnvtest, GolangciLint string
	goMod                                 []byte
	goSum                                 []byte
	// helmGoMod and helmGoSum are those of a project that installs its
	// domain service as a Helm chart; nil for sets from before the option.
	helmGoMod []byte
	helmGoSum []byte
}

// GoMod returns the go.mod of a project with the given module path; helm
// selects the one of a project that installs a Helm chart.
func (s Set) GoMod(module string, helm bool) []byte {
	mod := s.goMod
	if helm {
		mod = s.helmGoMod
	}
	return bytes.Replace(mod, []byte("module "+placeholder+"\n"), []byte(fmt.Sprintf("module %s\n", module)), 1)
}

// GoSum returns the go.sum of a project.
func (s Set) GoSum(helm bool) []byte {
	if helm {
		return bytes.Clone(s.helmGoSum)
	}
	return bytes.Clone(s.goSum)
}

// HasHelm reports whether the set knows the dependencies of a Helm project.
func (s Set) HasHelm() bool { return s.helmGoMod != nil }

// Current is the dependency set new projects get.
var Current = Set{
	Version: Version, EnvtestKubernetes: EnvtestKubernetes, Kubernetes: Kubernetes, Etcd: Etcd,
	GoVersion: GoVersion, SetupEnvtest: SetupEnvtest, GolangciLint: GolangciLint,
	goMod: goMod, goSum: goSum, helmGoMod: helmGoMod, helmGoSum: helmGoSum,
}

// earlier records what each earlier set pinned besides its modules.
var earlier = map[string]Set{
	"2026.08.1": {EnvtestKubernetes: "1.34.x", SetupEnvtest: "v0.24.1", GolangciLint: "v2.15.0"},
	"2026.11.1": {EnvtestKubernetes: "1.34.x", SetupEnvtest: "v0.24.1", GolangciLint: "v2.15.0"},
	"2026.11.2": {EnvtestKubernetes: "1.36.x", SetupEnvtest: "v0.24.1", GolangciLint: "v2.15.0"},
	"2026.12.1": {EnvtestKubernetes: "1.36.x", Kubernetes: "v1.36.3", Etcd: "v3.6.8", SetupEnvtest: "v0.24.1", GolangciLint: "v2.15.0"},
	"2026.12.2": {EnvtestKubernetes: "1.37.x", Kubernetes: "v1.37.2", Etcd: "v3.7.0", SetupEnvtest: "v0.24.1", GolangciLint: "v2.15.0"},
}

// Earlier sets are kept (helm/ holding a set's Helm variant), never
// refreshed, so that upgrades can compute what spgen wrote into a project's
// go.mod back then.
//
//go:embed history
var history embed.FS

// Lookup returns the set of a released stack version.
func Lookup(version string) (Set, bool) {
	if version == Version {
		return Current, true
	}
	dir := "history/" + version + "/"
	mod, err1 := fs.ReadFile(history, dir+"go.mod.txt")
	sum, err2 := fs.ReadFile(history, dir+"go.sum.txt")
	if err1 != nil || err2 != nil {
		return Set{}, false
	}
	s := earlier[version]
	s.Version, s.GoVersion, s.goMod, s.goSum = version, goDirective(mod), mod, sum
	s.helmGoMod, _ = fs.ReadFile(history, dir+"helm/go.mod.txt")
	s.helmGoSum, _ = fs.ReadFile(history, dir+"helm/go.sum.txt")
	return s, true
}

// Placeholder is the module path the stored go.mod uses; the refresh command
// writes it.
func Placeholder() string { return placeholder }

// goDirective is the version in the go line of a go.mod.
func goDirective(mod []byte) string {
	for line := range bytes.Lines(mod) {
		if v, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("go ")); ok {
			return string(v)
		}
	}
	return ""
}
