// Package spec holds the inputs of a spgen project (the spgen.yaml file) and
// the validation every name passes before anything is rendered.
package spec

import (
	"bytes"
	"fmt"
	"os"
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

// Project is the content of spgen.yaml. Field order is the order in the file.
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
}

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

// Lower is the lower-case kind, used in file names and as singular resource name.
func (k Kind) Lower() string { return strings.ToLower(k.Kind) }

// Plural is the resource name controller-gen derives for the kind.
// It must match controller-gen exactly, or the CRD file names and the
// permissions the provider requests would disagree with the CRD.
func (k Kind) Plural() string { return strings.ToLower(flect.Pluralize(k.Kind)) }

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

// Load reads and validates spgen.yaml from dir. Unknown fields are errors so
// that a typo never silently changes what is generated.
func Load(dir string) (*Project, error) {
	data, err := os.ReadFile(path.Join(dir, FileName))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &InputError{Msg: fmt.Sprintf("%s not found in %s: not a spgen project (run spgen init first)", FileName, dir)}
		}
		return nil, err
	}
	var p Project
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("%s: %v", FileName, err)}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}
