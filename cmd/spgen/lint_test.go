package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/stack"
)

// TestLint holds spgen's own code to the standard of the code it writes:
// golangci-lint at the version generated projects pin, with the
// repository's .golangci.yaml, finds nothing.
func TestLint(t *testing.T) {
	if testing.Short() {
		t.Skip("lints the whole module")
	}
	cmd := exec.Command("go", "run", "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@"+stack.GolangciLint, "run", "./...")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "0 issues.") {
		t.Errorf("golangci-lint: %v\n%s", err, out)
	}
}
