// Package gomod merges a new dependency stack into a user's go.mod and
// go.sum by meaning, not by lines: the stack's versions win for the stack's
// modules, everything the user added is kept.
package gomod

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

	"github.com/open-control-plane/spgen/internal/gocmd"
)

// Merge returns the user's go.mod (user) moved from the old stack's go.mod
// (base) to the new one (next):
//   - modules the new stack requires get the new stack's version;
//   - modules only the old stack required are dropped when the user still
//     has them at the old stack's version (they were the stack's);
//   - every other requirement, replace, exclude and retract of the user stays;
//   - the go directive becomes the newer of the user's and the stack's.
func Merge(base, user, next []byte) ([]byte, error) {
	b, err := modfile.Parse("go.mod (as spgen wrote it)", base, nil)
	if err != nil {
		return nil, err
	}
	u, err := modfile.Parse("go.mod", user, nil)
	if err != nil {
		return nil, err
	}
	n, err := modfile.Parse("go.mod (new stack)", next, nil)
	if err != nil {
		return nil, err
	}
	reqs := map[string]*modfile.Require{}
	for _, r := range u.Require {
		reqs[r.Mod.Path] = &modfile.Require{Mod: r.Mod, Indirect: r.Indirect}
	}
	for _, r := range b.Require {
		if mine, ok := reqs[r.Mod.Path]; ok && mine.Mod.Version == r.Mod.Version {
			delete(reqs, r.Mod.Path) // the old stack's; the new stack decides
		}
	}
	for _, r := range n.Require {
		reqs[r.Mod.Path] = &modfile.Require{Mod: r.Mod, Indirect: r.Indirect}
	}
	list := make([]*modfile.Require, 0, len(reqs))
	for _, r := range reqs {
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Mod.Path < list[j].Mod.Path })
	u.SetRequireSeparateIndirect(list)
	if n.Go != nil && (u.Go == nil || semver.Compare("v"+n.Go.Version, "v"+u.Go.Version) > 0) {
		if err := u.AddGoStmt(n.Go.Version); err != nil {
			return nil, err
		}
	}
	u.Cleanup()
	u.SortBlocks()
	out, err := u.Format()
	if err != nil {
		return nil, fmt.Errorf("formatting go.mod: %w", err)
	}
	return out, nil
}

// MergeSum returns the new stack's go.sum plus the user's own lines: lines
// only the old stack (base) had are dropped, so both the new stack's and the
// user's modules verify and nothing stale stays.
func MergeSum(base, user, next []byte) []byte {
	old := set(base)
	fresh := set(next)
	seen := map[string]bool{}
	var out []string
	for _, l := range append(splitLines(user), splitLines(next)...) {
		if seen[l] || (old[l] && !fresh[l]) {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	sort.Strings(out)
	var b bytes.Buffer
	for _, l := range out {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func splitLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func set(b []byte) map[string]bool {
	m := map[string]bool{}
	for _, l := range splitLines(b) {
		m[l] = true
	}
	return m
}

// Tidy runs go mod tidy in the module in dir and returns the tidy go.mod
// and go.sum. It works offline from the module cache first; only when that
// lacks a module the user's code needs does it use the module proxy.
func Tidy(ctx context.Context, dir string) (goMod, goSum []byte, err error) {
	if err = tidy(ctx, dir, "GOPROXY=off"); err != nil {
		if err = tidy(ctx, dir); err != nil {
			return nil, nil, err
		}
	}
	if goMod, err = os.ReadFile(filepath.Join(dir, "go.mod")); err != nil {
		return nil, nil, err
	}
	goSum, err = os.ReadFile(filepath.Join(dir, "go.sum"))
	return goMod, goSum, err
}

func tidy(ctx context.Context, dir string, env ...string) error {
	cmd := gocmd.Command(ctx, dir, "mod", "tidy")
	cmd.Env = append(append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go mod tidy: %w\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}
