// Package spec holds the inputs of a spgen project (the spgen.yaml file) and
// the validation every name passes before anything is rendered.
package spec

import (
	"bytes"
	"path"
	"strings"

	"github.com/gobuffalo/flect"
	"sigs.k8s.io/yaml"
)

// FileName is the project file that records every input of a spgen run.
const FileName = "spgen.yaml"

// GroupSuffix is appended to the user's group to form the API group.
const GroupSuffix = "services.open-control-plane.io"

// DefaultVersion is the API version of a kind when none is given.
const DefaultVersion = "v1alpha1"

// Project is the content of spgen.yaml.
type Project struct {
	// Module is the Go module path of the provider.
	Module string `json:"module"`
	// Group is the short API group; the full group is Group + "." + GroupSuffix.
	Group string `json:"group"`
	// ProviderName names the ServiceProvider and, therefore, its ProviderConfig.
	ProviderName string `json:"providerName"`
	// Options are the feature switches of init.
	Options Options `json:"options"`
	// Kinds lists every API kind of the provider; the first one is the one init created.
	Kinds []Kind `json:"kinds"`
}

// Options are the feature switches that change what is scaffolded.
type Options struct {
	WorkloadCluster bool `json:"workloadCluster"`
	SecretWatcher   bool `json:"secretWatcher"`
	Sample          bool `json:"sample"`
	// Deploy says how the domain service is installed: DeployManifests or
	// DeployHelm. Projects written before the option existed have none,
	// which means DeployManifests.
	Deploy string `json:"deploy,omitempty"`
}

// How the reconciler installs the domain service.
const (
	// DeployManifests: the reconciler writes the workload's objects itself.
	DeployManifests = "manifests"
	// DeployHelm: the reconciler has Flux on the platform cluster install
	// the domain service's Helm chart into the target cluster.
	DeployHelm = "helm"
)

// DeployModes lists the values of Options.Deploy.
var DeployModes = []string{DeployManifests, DeployHelm}

// Helm reports whether the domain service is installed as a Helm chart.
func (o Options) Helm() bool { return o.Deploy == DeployHelm }

// Kind is one API kind of the provider.
type Kind struct {
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// APIGroup is the full API group of the provider's kinds.
func (p *Project) APIGroup() string { return p.Group + "." + GroupSuffix }

// RepoName is the last element of the module path, used for the binary name.
func (p *Project) RepoName() string { return RepoName(p.Module) }

// RepoName returns the last element of a module path, skipping a major
// version suffix such as /v2, which never names a repository.
func RepoName(module string) string {
	base := path.Base(module)
	if isMajorSuffix(base) {
		base = path.Base(path.Dir(module))
	}
	return base
}

func isMajorSuffix(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Reconciled lists the kinds that have a reconciler: the first version of
// each kind in spgen.yaml, which is also its storage version. Later versions
// of a kind are served by the API server and converted by it; a second
// reconciler on the same objects would fight the first over their status.
func (p *Project) Reconciled() []Kind {
	var out []Kind
	seen := map[string]bool{}
	for _, k := range p.Kinds {
		if !seen[k.Kind] {
			seen[k.Kind] = true
			out = append(out, k)
		}
	}
	return out
}

// IsStorage reports whether k is the storage version of its kind.
func (p *Project) IsStorage(k Kind) bool {
	for _, r := range p.Reconciled() {
		if r.Kind == k.Kind {
			return r.Version == k.Version
		}
	}
	return false
}

// Versions lists the API versions of the project in order of first use.
// The first one stores the ProviderConfig.
func (p *Project) Versions() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range p.Kinds {
		if !seen[k.Version] {
			seen[k.Version] = true
			out = append(out, k.Version)
		}
	}
	return out
}

// AddKind appends k unless the project has the same kind in the same
// version already (a new version of a known kind is allowed); the caller
// validates the project with it.
func (p *Project) AddKind(k Kind) error {
	for _, e := range p.Kinds {
		if e == k {
			return flagError("--kind", k.Kind, "already exists in version "+k.Version+" (see "+FileName+"); use --version to add another version")
		}
	}
	p.Kinds = append(p.Kinds, k)
	return nil
}

// Lower is the lower-case kind, used in file names and as singular resource name.
func (k Kind) Lower() string { return strings.ToLower(k.Kind) }

// Plural is the resource name controller-gen derives for the kind.
// It must match controller-gen exactly, or the CRD file names and the
// permissions the provider requests would disagree with the CRD.
func (k Kind) Plural() string { return strings.ToLower(flectPlural(k.Kind)) }

func flectPlural(s string) string { return flect.Pluralize(s) }

// Marshal renders the project file deterministically with a short header.
func (p *Project) Marshal() ([]byte, error) {
	body, err := yaml.Marshal(p)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# Inputs of spgen for this provider. spgen add-api, generate and upgrade read\n")
	b.WriteString("# this file; edit it only through spgen commands.\n")
	b.Write(body)
	return b.Bytes(), nil
}
