package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/open-control-plane/spgen/internal/addapi"
	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/spec"
)

func newAddAPICommand() *cobra.Command {
	var dir, kind, version string
	var o addapi.Options
	cmd := &cobra.Command{
		Use:   "add-api --kind KIND [--version VERSION] [--dir DIR]",
		Short: "Add an API kind, or a new version of one, to the provider",
		Long: `Add an API kind to an existing provider: its types, a reconciler following the
openMCP contract with the same envtest tests as the first kind, sample and e2e
manifests, its entry in spgen.yaml, and everything generated from them (CRD,
deepcopy, permissions, wiring). main.go is not touched: it calls the generated
internal/wiring package, which registers every kind in spgen.yaml.

A new version of an existing kind adds its types, CRD version, a sample and
an envtest test that objects written in it read back in the storage version.
It is served but not stored (the first version stays the storage version and
keeps the reconciler) until you move the +kubebuilder:storageversion marker.

The same kind and version twice is refused. Nothing is written unless the
project type-checks with the new kind.`,
		Example: `  spgen add-api --kind Schedule
  spgen add-api --kind Velero --version v1beta1
  spgen add-api --kind Schedule --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k := spec.Kind{Kind: kind, Version: version}
			if err := k.Validate(); err != nil {
				return err
			}
			rep := progress.New(cmd.ErrOrStderr())
			w, err := openProject(cmd, dir, o.DryRun, rep)
			if err != nil {
				return err
			}
			defer w.Close()
			o.Out = cmd.OutOrStdout()
			o.Progress = rep
			rep.Printf("spgen: adding %s %s to %s\n", kind, version, w.Project.Module)
			changes, err := addapi.Run(cmd.Context(), w, k, o)
			if err != nil {
				return err
			}
			if o.DryRun {
				summarize(cmd.ErrOrStderr(), changes, "would change; nothing was written (--dry-run)")
				return nil
			}
			summarize(cmd.OutOrStdout(), changes, "changed")
			fmt.Fprintf(cmd.OutOrStdout(), "\nNext: edit api/%s/%s_types.go, then run spgen generate.\n", version, spec.Kind{Kind: kind}.Lower())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "project directory (default: the nearest directory holding spgen.yaml, from here up)")
	fl.StringVar(&kind, "kind", "", "API kind to add, UpperCamelCase, e.g. Schedule (required)")
	fl.StringVar(&version, "version", spec.DefaultVersion, "API version of the kind, v<N>[alpha<M>|beta<M>]")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the diff of what would change and write nothing")
	fl.BoolVar(&o.SkipVerify, "skip-verify", false, "skip type-checking before writing")
	return cmd
}
