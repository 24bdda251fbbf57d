package upgrade_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/stack"
	"github.com/open-control-plane/spgen/internal/upgrade"
)

// TestUpgradeMergesImportsAsSets: the user imports a package of their own
// right where the new templates import internal/provider (which
// generations before 3 did not). Line by line that is a conflict; as sets
// of imports it merges cleanly, and the upgraded project builds with both.
func TestUpgradeMergesImportsAsSets(t *testing.T) {
	dir := oldProject(t)
	controller := "internal/controller/velero_controller.go"
	providerImport := "\t\"example.com/acme/sp-velero/internal/provider\"\n"
	committedAs(t, dir, "2", map[string]string{controller: strings.Replace(read(t, dir, controller), providerImport, "", 1)})
	if err := os.MkdirAll(filepath.Join(dir, "pkg", "naming"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "pkg/naming/naming.go", "// Package naming names things.\npackage naming\n\n// Prefix starts every name.\nconst Prefix = \"velero\"\n")
	managedImport := "\t\"example.com/acme/sp-velero/internal/managed\"\n"
	replace(t, dir, controller, managedImport, managedImport+"\t\"example.com/acme/sp-velero/pkg/naming\"\n")
	replace(t, dir, controller, "\"app.kubernetes.io/name\": \"velero\"}", "\"app.kubernetes.io/name\": naming.Prefix}")
	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := action(res, controller); got != upgrade.Merged {
		t.Fatalf("%s: %s, want merged", controller, got)
	}
	body := read(t, dir, controller)
	for _, want := range []string{"\t\"example.com/acme/sp-velero/internal/provider\"\n", "\t\"example.com/acme/sp-velero/pkg/naming\"\n", "\"app.kubernetes.io/name\": naming.Prefix}", "func NewVeleroReconciler(d provider.Deps)"} {
		if !strings.Contains(body, want) {
			t.Errorf("merged controller lacks %q:\n%s", want, body)
		}
	}
	goBuildVet(t, dir)
}

// TestUpgradeKeepsRewrittenFiles: a file the user rewrote keeps what they
// wrote; the template's change is reported, not pushed into their text.
func TestUpgradeKeepsRewrittenFiles(t *testing.T) {
	dir := oldProject(t)
	mine := "# Velero for ACME\n\nOur own documentation: how we run this provider.\n\n- on-call: team velero\n- dashboards: grafana/velero\n"
	write(t, dir, "README.md", mine)
	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "README.md"); got != mine {
		t.Errorf("rewritten README changed:\n%s", got)
	}
	if got := action(res, "README.md"); got != upgrade.Kept {
		t.Errorf("README.md: %s, want kept", got)
	}
	if len(res.Unmerged) != 1 || res.Unmerged[0].Path != "README.md" || !strings.Contains(res.Unmerged[0].Diff, "+Upgrades come to you") {
		t.Errorf("the template's change to README.md is not reported: %+v", res.Unmerged)
	}
}

// TestUpgradeTidiesUserRequirements: a requirement the user added stays,
// and go.mod and go.sum are tidy after the stack moved.
func TestUpgradeTidiesUserRequirements(t *testing.T) {
	dir := oldProject(t)
	if err := os.MkdirAll(filepath.Join(dir, "pkg", "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "pkg/diff/diff.go", "// Package diff compares.\npackage diff\n\nimport \"github.com/google/go-cmp/cmp\"\n\n// Of describes how a and b differ.\nfunc Of(a, b any) string { return cmp.Diff(a, b) }\n")
	goCmd(t, dir, "get", "github.com/google/go-cmp@v0.7.0")
	if !strings.Contains(read(t, dir, "go.mod"), "github.com/google/go-cmp") {
		t.Fatal("setup: go-cmp is not required")
	}
	if _, err := runUpgrade(t, dir, upgrade.Options{}); err != nil {
		t.Fatal(err)
	}
	goCmd(t, dir, "mod", "tidy", "-diff")
	mod := read(t, dir, "go.mod")
	wants := []string{"github.com/google/go-cmp"}
	for _, m := range stack.Direct {
		wants = append(wants, m.Path+" "+m.Version)
	}
	for _, want := range wants {
		if !strings.Contains(mod, want) {
			t.Errorf("go.mod lacks %s:\n%s", want, mod)
		}
	}
	goBuildVet(t, dir)
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
