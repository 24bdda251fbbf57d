package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/upgrade"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// upgradeLong is upgrade's help: what happens to each file, and how an
// upgrade with conflicts is finished.
const upgradeLong = `Re-render the provider from spgen.yaml with this spgen's templates and stack and
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
markers, and the exit code is 1; the upgrade is unfinished, recorded in
.spgen/upgrade.yaml (commit it with the conflicted files). Resolve the
markers, then run spgen upgrade --continue: it regenerates, tidies go.mod,
type-checks and writes the lock file. spgen upgrade --abort instead puts
every file the upgrade changed back as it was before (your resolutions
too). Other commands refuse to run until one of the two is done. All files
change together: an interrupted command is completed or discarded by the
next spgen command.

--check writes nothing and exits 1 when the project's templates, stack or
spgen pin are older than this spgen's, or an upgrade is unfinished; 0 when
it is current. Use it in CI.`

func newUpgradeCommand() *cobra.Command {
	var dir string
	var mode upgradeMode
	var o upgrade.Options
	cmd := &cobra.Command{
		Use:   "upgrade [--dry-run | --check | --continue | --abort] [--dir DIR]",
		Short: "Move the provider to the current templates and dependency stack",
		Long:  upgradeLong,
		Example: `  spgen upgrade --dry-run   # the plan and its diff, nothing written
  spgen upgrade
  spgen upgrade --continue  # after resolving conflicts
  spgen upgrade --abort     # or: back to before the upgrade
  spgen upgrade --check     # in CI: exit 1 when the project is behind`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := mode.validate(o.DryRun); err != nil {
				return err
			}
			rep := progress.New(cmd.ErrOrStderr())
			w, err := openProjectWith(cmd, dir, workspace.OpenOptions{ReadOnly: o.DryRun || mode.check, Unfinished: mode.check || mode.resume || mode.abort}, rep)
			if err != nil {
				return err
			}
			defer w.Close()
			o.Out = cmd.OutOrStdout()
			o.Progress = rep
			o.SpgenVersion = version()
			switch {
			case mode.check:
				return checkUpgrade(cmd, w)
			case mode.abort:
				res, err := upgrade.Abort(w)
				if err != nil {
					return err
				}
				report(cmd.OutOrStdout(), res, "Undid the upgrade from "+res.To+" to "+res.From)
				return nil
			case mode.resume:
				res, err := upgrade.Continue(cmd.Context(), w, o)
				if err != nil {
					return err
				}
				report(cmd.OutOrStdout(), res, "Finished the upgrade from "+res.From+" to "+res.To)
				warn(cmd, res)
				return nil
			}
			return runUpgrade(cmd, w, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "", "project directory (default: the nearest directory holding spgen.yaml, from here up)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the plan and the diff of what would change; write nothing")
	fl.BoolVar(&mode.check, "check", false, "exit 1 when the project is behind this spgen or an upgrade is unfinished; write nothing")
	fl.BoolVar(&mode.resume, "continue", false, "finish an upgrade that stopped at conflicts, once they are resolved")
	fl.BoolVar(&mode.abort, "abort", false, "undo an upgrade that stopped at conflicts: every file back as it was")
	fl.BoolVar(&o.SkipVerify, "skip-verify", false, "skip type-checking before writing")
	fl.BoolVar(&o.AllowDowngrade, "allow-downgrade", false, "let an older spgen move the project's spgen pin back to its own version")
	return cmd
}

// upgradeMode is which of upgrade's jobs a run does.
type upgradeMode struct{ check, resume, abort bool }

func (m upgradeMode) validate(dryRun bool) error {
	n := 0
	for _, on := range []bool{m.check, m.resume, m.abort, dryRun} {
		if on {
			n++
		}
	}
	if n > 1 {
		return usageError{errors.New("--dry-run, --check, --continue and --abort exclude each other")}
	}
	return nil
}

func runUpgrade(cmd *cobra.Command, w *workspace.Workspace, o upgrade.Options) error {
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
	report(out, res, fmt.Sprintf("%s from %s to %s", verb, res.From, res.To))
	fmt.Fprintf(out, "replaced %d, merged %d, conflicted %d, kept %d, removed %d, created %d, regenerated %d, migrated %d\n",
		res.Count(upgrade.Replaced), res.Count(upgrade.Merged), res.Count(upgrade.Conflicted), res.Count(upgrade.Kept),
		res.Count(upgrade.Removed), res.Count(upgrade.Created), res.Count(upgrade.Regenerated), res.Count(upgrade.Migrated))
	if len(res.Unmerged) > 0 {
		fmt.Fprintf(out, "\nTemplate changes not merged into files you rewrote or whose objects were carried over; apply what you need by hand:\n")
		for _, u := range res.Unmerged {
			fmt.Fprint(out, u.Diff)
		}
	}
	warn(cmd, res)
	if o.DryRun {
		fmt.Fprintln(out, "nothing was written (--dry-run)")
	}
	return err
}

// report prints a headline and one line per file.
func report(out io.Writer, res *upgrade.Result, headline string) {
	fmt.Fprintln(out, headline)
	for _, f := range res.Files {
		note := ""
		if f.Note != "" {
			note = " (" + f.Note + ")"
		}
		fmt.Fprintf(out, "  %-11s %s%s\n", f.Action, f.Path, note)
	}
}

func warn(cmd *cobra.Command, res *upgrade.Result) {
	for _, w := range res.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "spgen: warning: %s\n", w)
	}
}

// errBehind makes --check exit 1 once its summary is printed.
var errBehind = errors.New("the project is behind this spgen: run spgen upgrade")

func checkUpgrade(cmd *cobra.Command, w *workspace.Workspace) error {
	s, err := upgrade.Check(w, version())
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if s.Unfinished {
		fmt.Fprintln(out, "An upgrade stopped at conflicts and is unfinished: resolve them, then run spgen upgrade --continue (or --abort).")
		return errors.New("an upgrade is unfinished")
	}
	if len(s.Behind) == 0 {
		fmt.Fprintf(out, "Up to date: %s.\n", s.Current)
		return nil
	}
	fmt.Fprintln(out, "Behind this spgen; the project has")
	for _, b := range s.Behind {
		fmt.Fprintln(out, "  "+b)
	}
	fmt.Fprintln(out, "spgen upgrade --dry-run shows what an upgrade changes.")
	return errBehind
}
