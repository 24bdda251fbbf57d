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

// commands are the packages that each run one spgen command; only the CLI
// (and the binary) may import them, so they never depend on each other
// and everything they share lives below them.
var commands = []string{"addapi", "generate", "initialize", "upgrade", "cli"}

// TestLayers: no package under internal/ imports a command package, the
// CLI aside.
func TestLayers(t *testing.T) {
	const module = "github.com/open-control-plane/spgen/internal/"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./internal/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	isCommand := map[string]bool{}
	for _, c := range commands {
		isCommand[module+c] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == module+"cli" {
			continue
		}
		for _, imp := range fields[1:] {
			if isCommand[imp] {
				t.Errorf("%s imports the command package %s", fields[0], imp)
			}
		}
	}
}
