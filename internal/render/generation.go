package render

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/open-control-plane/spgen/internal/linepatch"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/stack"
	"github.com/open-control-plane/spgen/templates"
)

// Generation is one released template set and the stack it shipped with.
// Upgrades re-render a project with the generation recorded in its lock
// file to know exactly what spgen wrote. The recent generations stay
// renderable: an earlier one is stored as the edits that turn the next
// generation's templates into its own (templates/generations/<name>.rcs,
// applied to the current set newest first); which files it writes is part
// of the file lists (since, until). Older ones are known by name and stack
// only: the project's git history holds what they wrote.
type Generation struct {
	Name  string
	Stack stack.Set
	// number orders generations; files say from which one on they exist.
	number int
}

// oldestStored is the oldest generation whose templates spgen keeps. The
// base of an upgrade from an older one comes from the project's git
// history (see internal/upgrade), so only recent generations, which a
// project may not have committed yet, need to be renderable.
const oldestStored = 6

// ListsHelmVersions reports whether a Helm project of generation g
// configures its charts as versions[] in the ProviderConfig; earlier ones
// had availableCharts.
func (g Generation) ListsHelmVersions() bool { return g.number >= 9 }

// RequireCurrent reports, as bad input, a project whose files come from
// templates generation templates when it is not the current one: a
// command that adds or regenerates files would mix two generations.
func RequireCurrent(templates string) error {
	if templates == Current.Name {
		return nil
	}
	return &spec.InputError{Msg: fmt.Sprintf("the project uses templates generation %s, this spgen writes generation %s: run spgen upgrade first (or use the spgen the project pins: task generate)", templates, Current.Name)}
}

// Stored reports whether spgen can render g.
func (g Generation) Stored() bool { return g.number >= oldestStored }

// Current is the generation new projects get.
var Current = Generation{Name: "10", Stack: stack.Current, number: 10}

// Generation 9 wrote each kind's reconciler whole: the steps every kind
// shares (status, Events, operation annotations, install and uninstall)
// were copied into every kind's controller.
var generation9 = Generation{
	Name:   "9",
	Stack:  stack.Current,
	number: 9,
}

// Generation 8 configured a Helm project's charts as availableCharts with
// one chart pull secret and top-level imagePullSecrets, invented the values
// the chart got for the CA bundle, had no release settings or registry CA,
// and its local openMCP reported every HelmRelease ready without
// installing anything.
var generation8 = Generation{
	Name:   "8",
	Stack:  mustStack("2026.12.2"),
	number: 8,
}

// Generation 7 had the stack of Kubernetes 1.36 and controller-runtime
// 0.24, and no scheduled workflow proposing spgen upgrades.
var generation7 = Generation{
	Name:   "7",
	Stack:  mustStack("2026.12.1"),
	number: 7,
}

// Generation 6 downloaded the tests' API server binaries from the internet
// only, ran `task dev` through `go run` and left its clusters running when
// the terminal closed or its output pipe broke, mixed the provider's log
// into the instructions, and reported a missing permission one verb at a
// time.
var generation6 = Generation{
	Name:   "6",
	Stack:  mustStack("2026.11.2"),
	number: 6,
}

// Generation 5 labelled every managed object with the provider and a hash
// of the request's namespace and name only, so two kinds for one managed
// control plane removed each other's objects; it deleted orphaned objects
// once they were no longer declared and namespaces with everything in
// them, checked the ignore annotation only before reconciling, shared one
// API server between all clusters in the envtest tests and never created
// the shipped samples.
var generation5 = Generation{
	Name:   "5",
	Stack:  mustStack("2026.11.2"),
	number: 5,
}

// Generation 4 asked for one rule set on every target cluster
// (+kubebuilder:rbac, wiring.TargetPermissions), waited 10 seconds between
// looks at a pending access request, and had no local openMCP to run the
// provider's binary against.
var generation4 = Generation{
	Name:   "4",
	Stack:  mustStack("2026.11.2"),
	number: 4,
}

// Generation 3 wrote a reconciler that created and deleted each object by
// hand, left the ProviderConfig's CA bundle unused, listed managed objects
// without their cluster and gave a workload cluster's workload no access
// to the managed control plane.
var generation3 = Generation{
	Name:   "3",
	Stack:  mustStack("2026.11.2"),
	number: 3,
}

// Generation 2 copied a reconciler's fields in the generated wiring, ran
// the kind e2e suite with every `go test`, started envtest for every test,
// and ran a bare `spgen` from the Taskfile and CI of development builds.
var generation2 = Generation{
	Name:   "2",
	Stack:  mustStack("2026.11.1"),
	number: 2,
}

// Generation 1 kept the sample of a kind at config/samples/<kind>.yaml,
// requeued a waiting reconcile after a minute, had a shorter --environment
// help and no .gitignore entry for spgen's working directories.
var generation1 = Generation{
	Name:   "1",
	Stack:  mustStack("2026.08.1"),
	number: 1,
}

var generations = []Generation{generation1, generation2, generation3, generation4, generation5, generation6, generation7, generation8, generation9, Current}

func mustStack(v string) stack.Set {
	s, ok := stack.Lookup(v)
	if !ok {
		panic("stack " + v + " is not embedded")
	}
	return s
}

// LookupGeneration returns a released generation by name.
func LookupGeneration(name string) (Generation, error) {
	var known []string
	for _, g := range generations {
		if g.Name == name {
			return g, nil
		}
		known = append(known, g.Name)
	}
	return Generation{}, &spec.InputError{Msg: fmt.Sprintf("templates generation %q is unknown to this spgen (known: %s); was the project written by a newer spgen?", name, strings.Join(known, ", "))}
}

// writes reports whether g writes f at all.
func (g Generation) writes(f file) bool {
	return g.number >= max(f.since, 1) && (f.until == 0 || g.number <= f.until)
}

var (
	parseMu sync.Mutex
	parsed  = map[string]*template.Template{}
)

// templates loads the template set of g once per process; each template is
// named by its path under project/.
func (g Generation) templates() (*template.Template, error) {
	parseMu.Lock()
	defer parseMu.Unlock()
	if t, ok := parsed[g.Name]; ok {
		return t, nil
	}
	texts, err := g.texts()
	if err != nil {
		return nil, err
	}
	root := template.New("").Option("missingkey=error")
	for name, text := range texts {
		if _, err := root.New(name).Parse(text); err != nil {
			return nil, fmt.Errorf("generation %s: %w", g.Name, err)
		}
	}
	parsed[g.Name] = root
	return root, nil
}

// texts returns the template texts of g: the current set with the stored
// edits of every later generation applied, newest first.
func (g Generation) texts() (map[string]string, error) {
	texts := map[string]string{}
	err := fs.WalkDir(templates.FS, "project", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(templates.FS, p)
		texts[strings.TrimPrefix(p, "project/")] = string(body)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Generation n is the current set with the edits of every generation
	// from the one before the current down to n.
	for n := Current.number - 1; n >= g.number; n-- {
		o := strconv.Itoa(n)
		bundle, err := fs.ReadFile(templates.FS, "generations/"+o+".rcs")
		if err != nil {
			return nil, err
		}
		patches, err := linepatch.ReadBundle(string(bundle))
		if err != nil {
			return nil, fmt.Errorf("templates/generations/%s.rcs: %w", o, err)
		}
		for name, patch := range patches {
			if texts[name], err = linepatch.Apply(texts[name], patch); err != nil {
				return nil, fmt.Errorf("templates/generations/%s.rcs, %s: %w", o, name, err)
			}
		}
	}
	return texts, nil
}
