package spec

import (
	"fmt"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/mod/module"
	"k8s.io/apimachinery/pkg/util/validation"
)

// InputError is a problem with what the user asked for, in a flag or in a
// project file. The CLI maps it to exit code 2; it is always detected
// before anything is rendered or written.
type InputError struct {
	Flag  string // the flag at fault, e.g. "--kind"
	File  string // or the file at fault, e.g. "spgen.yaml"
	Line  int    // line in File, when known
	Field string // field in File, e.g. "kinds[1].kind"
	Value string // the offending value
	Msg   string // the rule that was broken

	// kind is the index in Project.Kinds the error is about, or -1.
	kind int
}

func (e *InputError) Error() string {
	switch {
	case e.File != "":
		loc := e.File
		if e.Line > 0 {
			loc += ":" + strconv.Itoa(e.Line)
		}
		switch {
		case e.Field != "" && e.Value != "":
			return fmt.Sprintf("%s: %s %q: %s", loc, e.Field, e.Value, e.Msg)
		case e.Field != "":
			return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
		}
		return loc + ": " + e.Msg
	case e.Flag != "":
		return fmt.Sprintf("invalid %s %q: %s", e.Flag, e.Value, e.Msg)
	}
	return e.Msg
}

// KindError is bad input about the i-th kind of a project: a flag error
// on the command line, a located one in spgen.yaml.
func KindError(i int, kind, msg string) error {
	return &InputError{Flag: "--kind", Value: kind, Msg: msg, kind: i}
}

func flagError(flag, value, msg string) *InputError {
	return &InputError{Flag: flag, Value: value, Msg: msg, kind: -1}
}

// Limits of a project. They are far above what a provider needs and keep a
// damaged or hostile spgen.yaml from exhausting the machine.
const (
	MaxKinds        = 100
	MaxSpecFileSize = 256 << 10
)

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

// Validate checks the kind and version of k on their own, as flags.
func (k Kind) Validate() error {
	if err := ValidateKind(k.Kind); err != nil {
		return err
	}
	return ValidateVersion(k.Version)
}

// ValidateKind checks that kind is an exported UpperCamelCase Go identifier
// that collides with nothing spgen generates.
func ValidateKind(kind string) error {
	bad := func(msg string) error { return flagError("--kind", kind, msg) }
	if kind == "" {
		return bad("must not be empty")
	}
	if len(kind) > validation.DNS1035LabelMaxLength {
		return bad(fmt.Sprintf("must be at most %d characters", validation.DNS1035LabelMaxLength))
	}
	for i, r := range kind {
		if r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
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
	if strings.EqualFold(kind, "ProviderConfig") {
		return bad("differs from the ProviderConfig kind only in case; its resource names would be the same")
	}
	if strings.EqualFold(kind, "ProviderConfigs") || strings.EqualFold(flectPlural(kind), "providerconfigs") {
		return bad("its resource name would be providerconfigs, the ProviderConfig's")
	}
	return nil
}

// ValidateGroup checks the short group: one DNS-1123 label.
func ValidateGroup(group string) error {
	if group == "" {
		return flagError("--group", group, "must not be empty")
	}
	if errs := validation.IsDNS1123Label(group); len(errs) > 0 {
		return flagError("--group", group, "must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)")
	}
	return nil
}

// ValidateProviderName checks that the provider name can name Kubernetes
// objects (the ServiceProvider and its ProviderConfig) and every object
// derived from it.
func ValidateProviderName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return flagError("--provider-name", name, "must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)")
	}
	return nil
}

// ValidateModule checks the module path with the rules the go command uses.
func ValidateModule(mod string) error {
	if mod == "" {
		return flagError("--module", mod, "must not be empty")
	}
	if err := module.CheckPath(mod); err != nil {
		return flagError("--module", mod, "is not a valid Go module path: "+strings.TrimPrefix(err.Error(), "malformed module path \""+mod+"\": "))
	}
	if errs := validation.IsDNS1123Label(RepoName(mod)); len(errs) > 0 {
		return flagError("--module", mod, "last path element must be a DNS-1123 label (it names the binary and the image)")
	}
	return nil
}

// ValidateVersion checks an API version such as v1, v1alpha1 or v2beta3.
func ValidateVersion(v string) error {
	if !versionRE.MatchString(v) {
		return flagError("--version", v, "must look like v<N>, v<N>alpha<M> or v<N>beta<M> (e.g. v1alpha1)")
	}
	if len(v) > validation.DNS1035LabelMaxLength {
		return flagError("--version", v, fmt.Sprintf("is %d characters; a CRD version name is a DNS-1035 label of at most %d", len(v), validation.DNS1035LabelMaxLength))
	}
	return nil
}

// ValidateDeploy checks how the domain service is to be installed; empty
// means DeployManifests.
func ValidateDeploy(mode string) error {
	if mode == "" || slices.Contains(DeployModes, mode) {
		return nil
	}
	return flagError("--deploy", mode, "must be one of "+strings.Join(DeployModes, ", "))
}

// Validate checks every field of the project, each kind on its own and
// against the others, and every Kubernetes name derived from them.
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
	if err := ValidateDeploy(p.Options.Deploy); err != nil {
		return err
	}
	if len(p.Kinds) == 0 {
		return &InputError{Field: "kinds", Msg: "must list at least one kind", kind: -1}
	}
	if len(p.Kinds) > MaxKinds {
		return &InputError{Field: "kinds", Msg: fmt.Sprintf("lists %d kinds; at most %d are supported", len(p.Kinds), MaxKinds), kind: -1}
	}
	seen := map[string]bool{}
	names := map[string]string{} // resource name (plural or singular) -> kind
	for i, k := range p.Kinds {
		if err := ValidateKind(k.Kind); err != nil {
			return atKind(err, i)
		}
		if err := ValidateVersion(k.Version); err != nil {
			return atKind(err, i)
		}
		if err := CheckDerived(k.Kind, kindNames(p, k), "--kind", i); err != nil {
			return err
		}
		id := k.Version + "/" + k.Kind
		if seen[id] {
			return &InputError{Flag: "--kind", Value: k.Kind, Msg: "already exists in version " + k.Version, kind: i}
		}
		seen[id] = true
		// CRDs of one group must not share a plural or singular name, and
		// file names use the lower-case kind.
		for _, n := range []string{k.Plural(), k.Lower()} {
			if other, ok := names[n]; ok && other != k.Kind {
				return &InputError{Flag: "--kind", Value: k.Kind, kind: i,
					Msg: fmt.Sprintf("its resource name %q is already used by kind %s (two kinds of one group need distinct plural and lower-case names)", n, other)}
			}
		}
		names[k.Plural()], names[k.Lower()] = k.Kind, k.Kind
	}
	return nil
}

func atKind(err error, i int) error {
	if ie, ok := err.(*InputError); ok {
		ie.kind = i
	}
	return err
}

// DerivedName is a Kubernetes name spgen derives from user input, with the
// rule it must follow.
type DerivedName struct {
	What  string
	Name  string
	Limit int
	Check func(string) []string
}

// Label and Subdomain are the rules of most Kubernetes names.
var (
	Label     = func(s string) []string { return validation.IsDNS1123Label(s) }
	Subdomain = func(s string) []string { return validation.IsDNS1123Subdomain(s) }
)

// kindNames are the names the CRD of a kind derives from it: plural,
// list kind and CRD name. The names the templates derive are the
// renderer's to check (render.Validate).
func kindNames(p *Project, k Kind) []DerivedName {
	return []DerivedName{
		{"resource (plural) name", k.Plural(), validation.DNS1123LabelMaxLength, Label},
		{"list kind", k.Kind + "List", validation.DNS1035LabelMaxLength, func(s string) []string { return validation.IsDNS1035Label(strings.ToLower(s)) }},
		{"CRD name", k.Plural() + "." + p.APIGroup(), validation.DNS1123SubdomainMaxLength, Subdomain},
	}
}

// CheckDerived reports, as bad input in flag with value, the first of names
// Kubernetes would refuse. kind is the index of the kind the names come
// from in Project.Kinds, or -1.
func CheckDerived(value string, names []DerivedName, flag string, kind int) error {
	for _, n := range names {
		if len(n.Name) > n.Limit {
			return &InputError{Flag: flag, Value: value, kind: kind,
				Msg: fmt.Sprintf("is too long: its %s %q would be %d characters, Kubernetes allows %d", n.What, n.Name, len(n.Name), n.Limit)}
		}
		if errs := n.Check(n.Name); len(errs) > 0 {
			return &InputError{Flag: flag, Value: value, kind: kind,
				Msg: fmt.Sprintf("gives the %s %q, which Kubernetes refuses: %s", n.What, n.Name, strings.Join(errs, "; "))}
		}
	}
	return nil
}
