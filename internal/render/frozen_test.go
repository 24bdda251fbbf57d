package render

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/testutil"
)

// TestFrozenGenerations renders every generation for every option set of
// testdata/frozen/specs (the golden cases' specs as the manifests were
// made from them; they never change, or every manifest would), as a
// development build and as a released spgen writes it, and
// compares each file's hash with testdata/frozen/<generation>.sum. What a
// released generation rendered is the base of every upgrade from it: if a
// single byte of it changes (a template, a constant, the renderer), the
// lock files of its projects no longer match and their edited files
// conflict whole. -update writes the manifest of a generation that has
// none; one that exists is never rewritten: a generation is released with
// its manifest (remove it while a new generation is still being made).
func TestFrozenGenerations(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "frozen", "specs", "*", spec.FileName))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no option sets: %v", err)
	}
	for _, g := range generations {
		if !g.Stored() {
			continue
		}
		got := manifest(t, g, cases)
		path := filepath.Join("testdata", "frozen", g.Name+".sum")
		want, err := os.ReadFile(path)
		if *testutil.Update && os.IsNotExist(err) {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("generation %s: %v (go test -update writes the manifest of a new generation)", g.Name, err)
		}
		if diff := changedLines(string(want), got); diff != "" {
			t.Errorf("generation %s renders differently from when it was released; upgrades from it would merge against a wrong base. Changed:\n%s", g.Name, diff)
		}
	}
}

// manifest hashes every file g renders for each option set.
func manifest(t *testing.T, g Generation, cases []string) string {
	t.Helper()
	var b strings.Builder
	for _, c := range cases {
		p, err := spec.LoadWith(filepath.Dir(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if g.Supports(p) != nil {
			continue
		}
		for _, version := range []string{"", "v1.0.0"} {
			name := filepath.Base(filepath.Dir(c))
			if version != "" {
				name += "@" + version
			}
			tree, err := RenderWith(p, g, version)
			var input *spec.InputError
			if errors.As(err, &input) {
				break // a project this generation could not write
			}
			if err != nil {
				t.Fatalf("generation %s, %s: %v", g.Name, name, err)
			}
			for _, path := range tree.Paths() {
				f, _ := tree.Get(path)
				fmt.Fprintf(&b, "%x  %s/%s\n", sha256.Sum256(f.Content), name, path)
			}
		}
	}
	return b.String()
}

// changedLines lists the paths whose hash differs, appeared or went.
func changedLines(want, got string) string {
	index := func(s string) map[string]string {
		m := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
			if hash, path, ok := strings.Cut(line, "  "); ok {
				m[path] = hash
			}
		}
		return m
	}
	w, g := index(want), index(got)
	var out []string
	for path, hash := range w {
		if g[path] != hash {
			out = append(out, "  "+path)
		}
	}
	for path := range g {
		if _, ok := w[path]; !ok {
			out = append(out, "  "+path+" (new)")
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
