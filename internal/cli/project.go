package cli

import (
	"fmt"
	"io"

	"github.com/open-control-plane/spgen/internal/progress"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// openProject opens the project in dir and says so when it had to finish an
// interrupted earlier run first.
func openProject(dir string, rep *progress.Reporter) (*workspace.Workspace, error) {
	w, err := workspace.Open(dir)
	if err != nil {
		return nil, err
	}
	if w.Recovered {
		rep.Printf("spgen: completed an interrupted earlier spgen run in %s\n", dir)
	}
	return w, nil
}

// summarize prints one line per change and a count.
func summarize(out io.Writer, changes []workspace.Change, verb string) {
	for _, c := range changes {
		fmt.Fprintf(out, "  %-7s %s\n", c.Verb(), c.Path)
	}
	fmt.Fprintf(out, "%d file(s) %s\n", len(changes), verb)
}
