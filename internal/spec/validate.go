package spec

import (
	"fmt"
	"go/token"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/mod/module"
	"k8s.io/apimachinery/pkg/util/validation"
)

// InputError is a problem with what the user asked for. The CLI maps it to
// exit code 2; it is always detected before anything is rendered or written.
type InputError struct {
	Flag  string // the flag or field at fault, e.g. "--kind"
	Value string // the offending value
	Msg   string // the rule that was broken
}

func (e *InputError) Error() string {
	if e.Flag == "" {
		return e.Msg
	}
	return fmt.Sprintf("invalid %s %q: %s", e.Flag, e.Value, e.Msg)
}

// reservedKinds are identifiers the generated api package already declares, or
// that would collide with the generated code of the provider.
var reservedKinds = map[string]bool{
	"ProviderConfig":     true,
	"ProviderConfigList": true,
	"ProviderConfigSpec": true,
	"ManagedResource":    true,
	"ImageVersions":      true,
	"CABundleReference":  true,
	"GroupVersion":       true,
	"SchemeBuilder":      true,
	"AddToScheme":        true,
	"Phase":              true,
}

var versionRE = regexp.MustCompile(`^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$`)

// ValidateKind checks that kind is an exported UpperCamelCase Go identifier
// that collides with nothing spgen generates.
func ValidateKind(kind string) error {
	bad := func(msg string) error { return &InputError{Flag: "--kind", Value: kind, Msg: msg} }
	if kind == "" {
		return bad("must not be empty")
	}
	if len(kind) > 63 {
		return bad("must be at most 63 characters")
	}
	for i, r := range kind {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return bad("must contain only ASCII letters and digits (UpperCamelCase, e.g. Velero)")
		}
		if i == 0 && !unicode.IsUpper(r) {
			return bad("must start with an upper-case letter (UpperCamelCase, e.g. Velero)")
		}
	}
	if !token.IsIdentifier(kind) || token.IsKeyword(strings.ToLower(kind)) {
		return bad("must be a Go identifier whose lower-case form is not a Go keyword")
	}
	if reservedKinds[kind] || strings.HasSuffix(kind, "List") || strings.HasSuffix(kind, "Spec") || strings.HasSuffix(kind, "Status") {
		return bad("collides with a name the generated code uses (ProviderConfig, ...List, ...Spec, ...Status)")
	}
	return nil
}

// ValidateGroup checks the short group: one DNS-1123 label.
func ValidateGroup(group string) error {
	if group == "" {
		return &InputError{Flag: "--group", Value: group, Msg: "must not be empty"}
	}
	if errs := validation.IsDNS1123Label(group); len(errs) > 0 {
		return &InputError{Flag: "--group", Value: group, Msg: "must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)"}
	}
	if len(group)+1+len(GroupSuffix) > 253 {
		return &InputError{Flag: "--group", Value: group, Msg: "makes the API group longer than 253 characters"}
	}
	return nil
}

// ValidateProviderName checks that the provider name can name Kubernetes
// objects (the ServiceProvider and its ProviderConfig) and a lease.
func ValidateProviderName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return &InputError{Flag: "--provider-name", Value: name, Msg: "must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)"}
	}
	return nil
}

// ValidateModule checks the module path with the rules the go command uses.
func ValidateModule(mod string) error {
	if mod == "" {
		return &InputError{Flag: "--module", Value: mod, Msg: "must not be empty"}
	}
	if err := module.CheckPath(mod); err != nil {
		return &InputError{Flag: "--module", Value: mod, Msg: "is not a valid Go module path: " + strings.TrimPrefix(err.Error(), "malformed module path \""+mod+"\": ")}
	}
	if errs := validation.IsDNS1123Label(RepoName(mod)); len(errs) > 0 {
		return &InputError{Flag: "--module", Value: mod, Msg: "last path element must be a DNS-1123 label (it names the binary and the image)"}
	}
	return nil
}

// ValidateVersion checks an API version such as v1, v1alpha1 or v2beta3.
func ValidateVersion(v string) error {
	if !versionRE.MatchString(v) {
		return &InputError{Flag: "--version", Value: v, Msg: "must look like v<N>, v<N>alpha<M> or v<N>beta<M> (e.g. v1alpha1)"}
	}
	return nil
}

// Validate checks every field of the project.
func (p *Project) Validate() error {
	if err := ValidateModule(p.Module); err != nil {
		return err
	}
	if err := ValidateGroup(p.Group); err != nil {
		return err
	}
	if err := ValidateProviderName(p.ProviderName); err != nil {
		return err
	}
	if len(p.Kinds) == 0 {
		return &InputError{Msg: FileName + ": kinds must list at least one kind"}
	}
	seen := map[string]bool{}
	lower := map[string]string{}
	for _, k := range p.Kinds {
		if err := ValidateKind(k.Kind); err != nil {
			return err
		}
		if err := ValidateVersion(k.Version); err != nil {
			return err
		}
		id := k.Version + "/" + k.Kind
		if seen[id] {
			return &InputError{Flag: "--kind", Value: k.Kind, Msg: "already exists in version " + k.Version}
		}
		seen[id] = true
		// File names use the lower-case kind; two kinds differing only in
		// case would write the same files.
		if other, ok := lower[k.Lower()]; ok && other != k.Kind {
			return &InputError{Flag: "--kind", Value: k.Kind, Msg: "differs from the existing kind " + other + " only in case"}
		}
		lower[k.Lower()] = k.Kind
	}
	return nil
}
