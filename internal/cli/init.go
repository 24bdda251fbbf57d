package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/stack"
	"github.com/open-control-plane/spgen/internal/workspace"
)

func stackVersion() string {
	return stack.Version + " (" + modules(stack.Direct) + "; with --deploy helm also " + modules(stack.Helm) + ")"
}

func modules(ms []stack.Module) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.Path + " " + m.Version
	}
	return strings.Join(s, ", ")
}

type initFlags struct {
	module, kind, group, providerName, dir string
	workload, secretWatcher, sample        bool
	dryRun, force, skipVerify              bool
	templates, deploy                      string
}

func newInitCommand() *cobra.Command {
	f := &initFlags{}
	cmd := &cobra.Command{
		Use:   "init --module PATH --kind KIND --group GROUP [flags]",
		Short: "Create a complete service provider repository",
		Long: `Create a complete openMCP service provider repository that builds, vets and
tests without further steps: API types and CRDs, a reconciler following the
openMCP contract, the init/run binary, tests, Taskfile, Dockerfile and CI.

The API group is <group>.` + spec.GroupSuffix + `, version ` + spec.DefaultVersion + `.
Everything is staged and type-checked first; the target directory is only
touched when every step succeeded.`,
		Example: `  # Provider for Velero, running its workload in the managed control plane
  spgen init --module github.com/acme/service-provider-velero --kind Velero --group velero

  # Same, with a separate workload cluster and the example domain logic
  spgen init --module github.com/acme/service-provider-velero --kind Velero --group velero -w --sample

  # Install the domain service as a Helm chart through Flux on the platform cluster
  spgen init --module github.com/acme/service-provider-velero --kind Velero --group velero --deploy helm

  # Show which files would be written
  spgen init --module example.com/acme/sp-velero --kind Velero --group velero --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.module, "module", "", "Go module path of the provider, e.g. github.com/acme/service-provider-velero (required)")
	fl.StringVar(&f.kind, "kind", "", "API kind users create, UpperCamelCase, e.g. Velero (required)")
	fl.StringVar(&f.group, "group", "", "short API group, a DNS label, e.g. velero → velero."+spec.GroupSuffix+" (required)")
	fl.StringVar(&f.providerName, "provider-name", "", "name of the ServiceProvider and its ProviderConfig (default: the group)")
	fl.StringVar(&f.dir, "dir", "", "directory to create (default: last element of the module path)")
	fl.BoolVarP(&f.workload, "workload-cluster", "w", false, "run the workload in a separate workload cluster instead of the managed control plane")
	fl.StringVar(&f.deploy, "deploy", spec.DeployManifests, "how the reconciler installs the domain service: \"manifests\" writes the workload's objects (a Deployment) itself, \"helm\" has Flux install a Helm chart from an OCI registry (an OCIRepository and a HelmRelease on the platform cluster)")
	fl.BoolVar(&f.secretWatcher, "secret-watcher", false, "reconcile when an image pull secret of the ProviderConfig changes")
	fl.BoolVar(&f.sample, "sample", false, "add example domain logic: install a domain CRD into the managed control plane")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the diff of what would be written and write nothing")
	fl.BoolVar(&f.force, "force", false, "write into a non-empty directory, replacing files with the same paths")
	fl.BoolVar(&f.skipVerify, "skip-verify", false, "skip type-checking the generated project")
	// Earlier template generations are kept to exercise upgrades.
	fl.StringVar(&f.templates, "templates", render.Current.Name, "template generation to write")
	_ = fl.MarkHidden("templates")
	return cmd
}

// run creates the project the flags describe.
func (f *initFlags) run(cmd *cobra.Command) error {
	p, err := f.project()
	if err != nil {
		return err
	}
	gen, err := render.LookupGeneration(f.templates)
	if err != nil {
		return err
	}
	if err := render.Validate(p, gen); err != nil {
		return err
	}
	dir := f.dir
	if dir == "" {
		dir = p.RepoName()
	}
	stderr := cmd.ErrOrStderr()
	rep := progress.New(stderr)
	res, err := initialize.Run(cmd.Context(), p, initialize.Options{
		Dir:          dir,
		Force:        f.force,
		DryRun:       f.dryRun,
		SkipVerify:   f.skipVerify,
		SpgenVersion: version(),
		Progress:     rep,
		Generation:   gen,
	})
	if err != nil {
		return err
	}
	return f.report(cmd, p, dir, res)
}

// report prints what init wrote (or, with --dry-run, would write) and the
// next steps.
func (f *initFlags) report(cmd *cobra.Command, p *spec.Project, dir string, res *initialize.Result) error {
	stderr := cmd.ErrOrStderr()
	rep := progress.New(stderr)
	out := cmd.OutOrStdout()
	if f.dryRun {
		changes, err := plannedChanges(dir, res.Tree)
		if err != nil {
			return err
		}
		if err := workspace.WriteDiff(out, changes); err != nil {
			return err
		}
		summarize(stderr, changes, "would be written; nothing was written (--dry-run)")
		return nil
	}
	for _, path := range res.Overwritten {
		rep.Printf("spgen: replaced existing file %s (--force)\n", path)
	}
	fmt.Fprintf(out, "Created %s: %d files in %s\n\nNext steps:\n  cd %s\n"+
		"  go test ./...   # builds the provider and runs its tests against real API servers\n"+
		"                  # (a machine's first run builds kube-apiserver and etcd, 5-8 minutes)\n"+
		"  task dev        # runs it against a local openMCP until Ctrl-C\n"+
		"  task            # lists the other tasks: generate, build, e2e, ...\n",
		p.Module, res.Tree.Len(), dir, shellQuote(dir))
	return nil
}

// plannedChanges compares the planned tree with what is in dir.
func plannedChanges(dir string, t *scaffold.Tree) ([]workspace.Change, error) {
	var out []workspace.Change
	for _, path := range t.Paths() {
		f, _ := t.Get(path)
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if !bytes.Equal(old, f.Content) || old == nil {
			out = append(out, workspace.Change{Path: path, Old: old, New: f.Content})
		}
	}
	return out, nil
}

// project is the project the flags describe; project.Validate checks it.
// Several required flags missing are reported together.
func (f *initFlags) project() (*spec.Project, error) {
	var missing []string
	for _, r := range []struct{ flag, value string }{{"--module", f.module}, {"--kind", f.kind}, {"--group", f.group}} {
		if r.value == "" {
			missing = append(missing, r.flag)
		}
	}
	if len(missing) > 1 {
		return nil, usageError{fmt.Errorf("required flags %s are missing, e.g. spgen init --module github.com/acme/service-provider-velero --kind Velero --group velero", strings.Join(missing, ", "))}
	}
	name := f.providerName
	if name == "" {
		name = f.group
	}
	p := &spec.Project{
		Module:       f.module,
		Group:        f.group,
		ProviderName: name,
		Options:      spec.Options{WorkloadCluster: f.workload, SecretWatcher: f.secretWatcher, Sample: f.sample, Deploy: f.deploy},
		Kinds:        []spec.Kind{{Kind: f.kind, Version: spec.DefaultVersion}},
	}
	return p, nil
}

// shellQuote quotes a path for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+@:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
