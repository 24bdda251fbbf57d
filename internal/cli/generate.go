package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/open-control-plane/spgen/internal/generate"
	"github.com/open-control-plane/spgen/internal/progress"
)

func newGenerateCommand() *cobra.Command {
	var dir string
	var o generate.Options
	cmd := &cobra.Command{
		Use:   "generate [--check | --dry-run] [--dir DIR]",
		Short: "Bring generated code, CRDs, permissions and wiring up to date",
		Long: `Regenerate every generated artifact of the provider from its sources and
spgen.yaml: deepcopy methods, CRD manifests and their embed package, the
permission rules of each cluster from the +spgen:rbac:cluster=onboarding|mcp|workload
markers of internal/controller (+kubebuilder:rbac ones count for every target
cluster), and internal/wiring. Every marker is checked first: a malformed one
fails with its file and line, an unknown +kubebuilder: one is a warning. Run it
after editing API types or reconciler markers. Everything runs in-process;
nothing is downloaded.

Files you own are never touched. Before anything is written the API types
with their new deepcopy code are type-checked (the whole module when the
wiring changes); type errors are reported with their positions and nothing
is written. A second run in a row changes nothing.

--check is for CI: it prints a unified diff of stale generated files and
exits 1 when there are any, 0 when everything is current.`,
		Example: `  spgen generate
  spgen generate --check     # in CI: fail when someone forgot to regenerate
  spgen generate --dry-run   # show the diff, write nothing`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Check && o.DryRun {
				return usageError{fmt.Errorf("--check and --dry-run cannot be combined")}
			}
			rep := progress.New(cmd.ErrOrStderr())
			w, err := openProject(cmd, dir, o.Check || o.DryRun, rep)
			if err != nil {
				return err
			}
			defer w.Close()
			o.Out = cmd.OutOrStdout()
			o.Progress = rep
			changes, err := generate.Run(cmd.Context(), w, o)
			if err != nil {
				return err
			}
			switch {
			case o.Check:
				rep.Printf("spgen: generated files are up to date\n")
			case o.DryRun:
				summarize(cmd.ErrOrStderr(), changes, "would change; nothing was written (--dry-run)")
			default:
				summarize(cmd.OutOrStdout(), changes, "changed")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "project directory (default: the nearest directory holding spgen.yaml, from here up)")
	fl.BoolVar(&o.Check, "check", false, "exit 1 with a diff when generated files are stale; write nothing")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the diff of what would change and write nothing")
	fl.BoolVar(&o.SkipVerify, "skip-verify", false, "skip type-checking before writing")
	return cmd
}
