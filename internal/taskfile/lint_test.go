package taskfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintTask runs `task lint` in every golden project: the pinned
// golangci-lint with the project's own .golangci.yaml, the kind end-to-end
// suite included, finds nothing in what spgen writes.
func TestLintTask(t *testing.T) {
	taskBin := installTask(t)
	goldens, err := os.ReadDir(filepath.Join("..", "..", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		t.Run(g.Name(), func(t *testing.T) {
			out, err := runTask(taskBin, filepath.Join("..", "..", "golden", g.Name()), "lint")
			if err != nil || !strings.Contains(out, "0 issues.") {
				t.Errorf("task lint: %v\n%s", err, out)
			}
		})
	}
}
