package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// openProject opens the project in --dir or, without it, in the nearest
// directory from the working directory up that holds spgen.yaml (as git
// finds its repository). It says so when it had to finish an interrupted
// earlier run first.
// A readOnly command (--check, --dry-run) opens it without completing or
// cleaning up anything.
func openProject(cmd *cobra.Command, dir string, readOnly bool, rep *progress.Reporter) (*workspace.Workspace, error) {
	return openProjectWith(cmd, dir, workspace.OpenOptions{ReadOnly: readOnly}, rep)
}

// openProjectWith opens the project as openProject does, with options.
func openProjectWith(cmd *cobra.Command, dir string, o workspace.OpenOptions, rep *progress.Reporter) (*workspace.Workspace, error) {
	if !cmd.Flags().Changed("dir") {
		found, err := findProject()
		if err != nil {
			return nil, err
		}
		dir = found
	}
	wait, err := lockWait()
	if err != nil {
		return nil, err
	}
	o.Wait = wait
	o.Check = render.Check
	o.Waiting = func() {
		rep.Printf("spgen: another spgen command is working on this project; waiting up to %s for it to finish (%s sets how long)\n", wait, LockWaitVariable)
	}
	w, err := workspace.Open(dir, o)
	if err != nil {
		return nil, err
	}
	if w.Recovered {
		rep.Printf("spgen: completed an interrupted earlier spgen run in %s\n", dir)
	}
	return w, nil
}

// LockWait is how long a command waits for another spgen command working on
// the same project before it gives up, unless LockWaitVariable says.
var LockWait = workspace.DefaultWait

// LockWaitVariable names the environment variable that sets how long a
// command waits for another one (a Go duration such as 5m): scripts that run
// several spgen commands on one project at once, on a busy machine, need more
// than the default.
const LockWaitVariable = "SPGEN_LOCK_WAIT"

func lockWait() (time.Duration, error) {
	v := os.Getenv(LockWaitVariable)
	if v == "" {
		return LockWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, &spec.InputError{Msg: fmt.Sprintf("invalid %s %q: want a duration such as 5m", LockWaitVariable, v)}
	}
	return d, nil
}

func findProject() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return workspace.Find(wd)
}

// summarize prints one line per change and a count.
func summarize(out io.Writer, changes []workspace.Change, verb string) {
	for _, c := range changes {
		fmt.Fprintf(out, "  %-7s %s\n", c.Verb(), c.Path)
	}
	fmt.Fprintf(out, "%d file(s) %s\n", len(changes), verb)
}
