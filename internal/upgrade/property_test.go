package upgrade_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/upgrade"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// editLines inserts, deletes and changes random lines; every line it writes
// is unique. It returns the new text and the user's lines still in it.
func editLines(r *rand.Rand, text, tag string, n int) (string, []string) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var added []string
	for i := 0; i < n; i++ {
		fresh := fmt.Sprintf("// %s-%d-%d\n", tag, i, r.IntN(1_000_000))
		switch op := r.IntN(3); {
		case op == 0 || len(lines) == 0:
			at := r.IntN(len(lines) + 1)
			lines = append(lines[:at], append([]string{fresh}, lines[at:]...)...)
			added = append(added, fresh)
		case op == 1:
			at := r.IntN(len(lines))
			lines = append(lines[:at], lines[at+1:]...)
		default:
			at := r.IntN(len(lines))
			lines[at] = fresh
			added = append(added, fresh)
		}
	}
	out := strings.Join(lines, "")
	kept := added[:0]
	for _, a := range added {
		if strings.Contains(out, a) {
			kept = append(kept, a)
		}
	}
	return out, kept
}

// TestUpgradeNeverLosesUserLines makes random edits to the scaffolded files
// of a real generation-1 project and plans the upgrade: every line the user
// wrote is in the planned file, merged or inside conflict markers, and only
// files the user never touched are removed.
func TestUpgradeNeverLosesUserLines(t *testing.T) {
	const cases = 150
	r := rand.New(rand.NewPCG(7, 11))
	old, _ := trees(t)
	w0, err := workspace.Open(old, workspace.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w0.Close)
	var candidates []string
	for _, e := range w0.Manifest.Files {
		if e.Owner == scaffold.Scaffolded && e.Path != "go.mod" && e.Path != "go.sum" && e.Path != "spgen.yaml" {
			candidates = append(candidates, e.Path)
		}
	}
	sort.Strings(candidates)
	conflicted, merged, edits := 0, 0, 0
	for c := 0; c < cases; c++ {
		dir := oldProject(t)
		userLines := map[string][]string{}
		for _, path := range candidates {
			if r.IntN(3) != 0 {
				continue
			}
			body := read(t, dir, path)
			text, added := editLines(r, body, fmt.Sprintf("user%d", c), 1+r.IntN(6))
			write(t, dir, path, text)
			userLines[path] = added
			edits++
		}
		w, err := workspace.Open(dir, workspace.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
		res, _, err := upgrade.Plan(context.Background(), w, upgrade.Options{})
		if err != nil {
			t.Fatalf("case %d: %v", c, err)
		}
		planned := map[string]*workspace.Change{}
		for i := range res.Changes {
			planned[res.Changes[i].Path] = &res.Changes[i]
		}
		for path, lines := range userLines {
			final := read(t, dir, path)
			if ch, ok := planned[path]; ok {
				if ch.New == nil {
					if len(lines) > 0 {
						t.Fatalf("case %d: %s removed although the user wrote %d lines in it", c, path, len(lines))
					}
					continue
				}
				final = string(ch.New)
			}
			for _, l := range lines {
				if !strings.Contains(final, l) {
					t.Fatalf("case %d: %s lost the user's line %q (action %s)", c, path, strings.TrimSpace(l), action(res, path))
				}
			}
			switch action(res, path) {
			case upgrade.Conflicted:
				conflicted++
			case upgrade.Merged:
				merged++
			}
		}
		_ = os.RemoveAll(filepath.Dir(dir))
	}
	t.Logf("%d upgrades of real projects with %d edited files: %d merged, %d conflicted, no user line lost", cases, edits, merged, conflicted)
}
