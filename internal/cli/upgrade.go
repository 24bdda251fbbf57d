package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/upgrade"
)

func newUpgradeCommand() *cobra.Command {
	var dir string
	var o upgrade.Options
	cmd := &cobra.Command{
		Use:   "upgrade [--dry-run] [--dir DIR]",
		Short: "Move the provider to the current templates and dependency stack",
		Long: `Re-render the provider from spgen.yaml with this spgen's templates and stack and
merge the result into your code, file by file, offline:

  replaced     you had not edited the file: it gets the new version
  kept         the templates did not change it, or you deleted it
  merged       both changed it: merged line by line
  conflicted   both changed the same lines: the file gets diff3 markers
               (<<<<<<< yours ||||||| spgen old ======= spgen new >>>>>>>)
  removed      no longer produced and never edited by you
  created      new in this version
  regenerated  generated code, rebuilt from the upgraded sources

go.mod is merged by meaning: the stack's modules get the stack's versions, your
own requirements and replaces stay; go.sum follows. What spgen originally wrote
is recomputed from the template generation in .spgen/lock.yaml, so nothing is
downloaded.

Without conflicts the project is regenerated and type-checked before anything
is written. With conflicts every file is written, conflicted ones with
markers, generation is left for after you resolve them, and the exit code
is 1. All files change together: an interrupted upgrade is completed or
discarded by the next spgen command.`,
		Example: `  spgen upgrade --dry-run   # the plan and its diff, nothing written
  spgen upgrade`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep := progress.New(cmd.ErrOrStderr())
			w, err := openProject(cmd, dir, o.DryRun, rep)
			if err != nil {
				return err
			}
			defer w.Close()
			o.Out = cmd.OutOrStdout()
			o.Progress = rep
			o.SpgenVersion = version()
			res, err := upgrade.Run(cmd.Context(), w, o)
			var conflict *upgrade.ConflictError
			if err != nil && !errors.As(err, &conflict) {
				return err
			}
			out := cmd.OutOrStdout()
			if o.DryRun {
				out = cmd.ErrOrStderr()
			}
			if res.From == res.To {
				fmt.Fprintf(out, "Already at %s; nothing to do.\n", res.To)
				return nil
			}
			verb := "Upgraded"
			if o.DryRun {
				verb = "Would upgrade"
			}
			fmt.Fprintf(out, "%s from %s to %s\n", verb, res.From, res.To)
			for _, f := range res.Files {
				note := ""
				if f.Note != "" {
					note = " (" + f.Note + ")"
				}
				fmt.Fprintf(out, "  %-11s %s%s\n", f.Action, f.Path, note)
			}
			fmt.Fprintf(out, "replaced %d, merged %d, conflicted %d, kept %d, removed %d, created %d, regenerated %d\n",
				res.Count(upgrade.Replaced), res.Count(upgrade.Merged), res.Count(upgrade.Conflicted), res.Count(upgrade.Kept),
				res.Count(upgrade.Removed), res.Count(upgrade.Created), res.Count(upgrade.Regenerated))
			if len(res.Unmerged) > 0 {
				fmt.Fprintf(out, "\nTemplate changes not merged into files you rewrote; apply what you need by hand:\n")
				for _, u := range res.Unmerged {
					fmt.Fprint(out, u.Diff)
				}
			}
			for _, warn := range res.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "spgen: warning: %s\n", warn)
			}
			if o.DryRun {
				fmt.Fprintln(out, "nothing was written (--dry-run)")
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "project directory (default: the nearest directory holding spgen.yaml, from here up)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the plan and the diff of what would change; write nothing")
	fl.BoolVar(&o.SkipVerify, "skip-verify", false, "skip type-checking before writing")
	fl.BoolVar(&o.AllowDowngrade, "allow-downgrade", false, "let an older spgen move the project's spgen pin back to its own version")
	return cmd
}
