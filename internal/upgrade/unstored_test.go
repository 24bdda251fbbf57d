package upgrade_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/upgrade"
)

// TestUpgradeFromUnstoredGeneration: spgen no longer renders generations
// before 6. A project one of them wrote takes what spgen wrote from its git
// history, by the hashes in the lock file: the user's edit merges cleanly
// with the templates' change. Without the history the edited file is one
// whole conflict, with a warning naming it, and nothing of the user's is
// lost.
func TestUpgradeFromUnstoredGeneration(t *testing.T) {
	helper := "// userHelper is the user's own code.\nfunc userHelper() string { return \"mine\" }\n\n"
	setup := func(t *testing.T) string {
		dir := oldProject(t)
		committedAs(t, dir, "5", nil)
		replace(t, dir, controllerFile, "func veleroNamespace(", helper+"func veleroNamespace(")
		return dir
	}

	t.Run("with its git history", func(t *testing.T) {
		dir := setup(t)
		res, err := runUpgrade(t, dir, upgrade.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := action(res, controllerFile); got != upgrade.Merged {
			t.Errorf("%s: %q, want merged", controllerFile, got)
		}
		c := read(t, dir, controllerFile)
		if !strings.Contains(c, helper) || !strings.Contains(c, applyLineNow) {
			t.Errorf("the merge lost the user's code or the templates' change:\n%s", c)
		}
		if len(res.Warnings) > 0 {
			t.Errorf("warnings: %v", res.Warnings)
		}
		goBuildVet(t, dir)
	})

	t.Run("without it", func(t *testing.T) {
		dir := setup(t)
		if err := os.RemoveAll(filepath.Join(dir, ".git")); err != nil {
			t.Fatal(err)
		}
		t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
		res, err := runUpgrade(t, dir, upgrade.Options{})
		var conflict *upgrade.ConflictError
		if !errors.As(err, &conflict) || len(conflict.Paths) != 1 || conflict.Paths[0] != controllerFile {
			t.Fatalf("want one conflict in %s, got %v", controllerFile, err)
		}
		c := read(t, dir, controllerFile)
		if !strings.HasPrefix(c, "<<<<<<< yours\n") || !strings.Contains(c, helper) || !strings.Contains(c, applyLineNow) {
			t.Errorf("want the whole file as one conflict with both sides:\n%.300s", c)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], controllerFile) || !strings.Contains(res.Warnings[0], "git history") {
			t.Errorf("want one warning naming %s: %v", controllerFile, res.Warnings)
		}
	})
}
