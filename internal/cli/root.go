// Package cli defines spgen's commands: it turns flags into a project spec,
// runs the work, and maps failures to exit codes scripts can rely on.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/open-control-plane/spgen/internal/spec"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitError       = 1   // the work failed: generation, type errors, I/O, another command holding the project
	ExitUsage       = 2   // bad input: nothing was written
	ExitInterrupted = 130 // stopped by an interrupt before writing (128 + SIGINT, as shells report it)
)

// Version is spgen's version, set at link time for releases; otherwise it
// comes from the module build info.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// usageError marks flag parsing problems so they exit with ExitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "spgen",
		Short: "Scaffold and grow openMCP service providers",
		Long: `spgen creates openMCP service providers: Kubernetes controllers that turn a user's
request on the onboarding cluster into a domain service in the user's managed
control plane.

Exit codes: 0 success, 1 the work failed, 2 invalid input (nothing written),
130 interrupted (nothing written).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInitCommand(), newAddAPICommand(), newGenerateCommand(), newUpgradeCommand(), newVersionCommand())
	root.InitDefaultCompletionCmd()
	strictCompletion(root)
	return root
}

// strictCompletion makes `spgen completion <unknown shell>` a usage error:
// cobra's completion command would print its help and succeed.
func strictCompletion(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, sub := range c.Commands() {
			shells = append(shells, sub.Name())
		}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown shell %q for %s (known: %s)", args[0], cmd.CommandPath(), strings.Join(shells, ", "))}
			}
			return cmd.Help()
		}
	}
}

// Execute runs spgen with args and returns the exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	switch {
	case err == nil:
		return ExitOK
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "spgen: interrupted; nothing was written")
		return ExitInterrupted
	}
	var input *spec.InputError
	var usage usageError
	switch {
	case errors.As(err, &usage) || isArgsError(err) || (errors.As(err, &input) && input.Flag != ""):
		// A mistake in how the command was called: say where the flags
		// are explained.
		msg := strings.TrimRight(err.Error(), "\n")
		if strings.Contains(msg, "\n") {
			fmt.Fprintf(stderr, "spgen: %s\nSee '%s --help'.\n", msg, cmd.CommandPath())
		} else {
			fmt.Fprintf(stderr, "spgen: %s; see '%s --help'\n", msg, cmd.CommandPath())
		}
		return ExitUsage
	case input != nil:
		fmt.Fprintln(stderr, "spgen:", err)
		return ExitUsage
	}
	fmt.Fprintln(stderr, "spgen:", err)
	return ExitError
}

// isArgsError recognises cobra's own reports of unknown commands and bad
// positional arguments, which it returns as plain errors.
func isArgsError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command ", "accepts ", "requires at least ", "requires at most ", "invalid argument "} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print spgen's version and the versions it generates for",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "spgen %s\n", version())
			fmt.Fprintf(out, "stack %s\n", stackVersion())
			return nil
		},
	}
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q (values are given with flags, see --help)", cmd.CommandPath(), args[0])}
	}
	return nil
}
