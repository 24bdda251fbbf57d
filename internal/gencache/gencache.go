// Package gencache remembers results that are a function of their inputs:
// the generated files that code generation produced for a set of sources,
// so that `spgen generate` on sources it has seen before (nothing changed
// since the last run, an edit undone) costs a walk over the sources instead
// of loading and type-checking packages; and what the go command said
// about a module's dependencies.
//
// The key covers everything generation reads: spgen itself, the Go
// toolchain and environment, the project's spec, go.mod and go.sum, and
// every Go source file of the module that the generators could load. When
// anything outside the module can change what loads (a go.work file, a
// replace directive pointing at a directory, a vendor directory), there is
// no key and nothing is cached.
package gencache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/open-control-plane/spgen/internal/projectfs"
)

// format changes whenever the stored form or the key's make-up does.
const format = "spgen-gencache-2"

// keep is how many results are kept; older ones are removed.
const keep = 64

// Inputs is what a key is computed from besides the module's files.
type Inputs struct {
	// Toolchain identifies the go command and its environment.
	Toolchain string
	// Spec is the project's spec, in any stable encoding.
	Spec []byte
	// Overlay holds files generation sees instead of what is on disk.
	Overlay map[string][]byte
	// Skip reports files that generation writes; they are not inputs.
	Skip func(rel string) bool
	// Files are inputs of generation besides the module's Go sources,
	// go.mod and go.sum (the header every generated file starts with).
	Files []string
}

// Key fingerprints the inputs of generation for the module in dir. ok is
// false when the module depends on files outside it that a key cannot
// cover.
func Key(dir string, in Inputs) (key string, ok bool, err error) {
	if !SelfContained(dir) {
		return "", false, nil
	}
	h := sha256.New()
	field(h, format)
	field(h, binaryIdentity())
	field(h, in.Toolchain)
	field(h, string(in.Spec))
	for _, p := range sortedKeys(in.Overlay) {
		field(h, p)
		field(h, string(in.Overlay[p]))
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			// What the go command ignores, and nested modules.
			if rel != "." && (projectfs.GoIgnoresDir(name) || exists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		isSource := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if !isSource && rel != "go.mod" && rel != "go.sum" && !slices.Contains(in.Files, rel) || in.Skip != nil && in.Skip(rel) {
			return nil
		}
		if info, err := os.Stat(p); err != nil || !info.Mode().IsRegular() {
			return nil // a dangling link or a device: nothing the go command reads
		}
		if _, overlaid := in.Overlay[rel]; overlaid {
			return nil
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		field(h, rel)
		field(h, string(content))
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return hex.EncodeToString(h.Sum(nil)), true, nil
}

// Load returns the files stored under key.
func Load(key string) (map[string][]byte, bool) {
	b, err := os.ReadFile(entry(key))
	if err != nil {
		return nil, false
	}
	var files map[string][]byte
	if json.Unmarshal(b, &files) != nil {
		return nil, false
	}
	return files, true
}

// Store keeps files under key. A cache that cannot be written only costs
// speed, so errors are ignored.
func Store(key string, files map[string][]byte) {
	b, err := json.Marshal(files)
	if err != nil {
		return
	}
	p := entry(key)
	if os.MkdirAll(filepath.Dir(p), 0o777) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), p) != nil {
		os.Remove(tmp.Name())
		return
	}
	trim(filepath.Dir(p))
}

// Dir is where results are kept.
func Dir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "spgen", "generated")
}

func entry(key string) string { return filepath.Join(Dir(), key+".json") }

// trim removes the oldest results beyond keep.
func trim(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) <= keep {
		return
	}
	type aged struct {
		name string
		mod  int64
	}
	var all []aged
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".json") {
			all = append(all, aged{e.Name(), info.ModTime().UnixNano()})
		}
	}
	slices.SortFunc(all, func(a, b aged) int { return int(b.mod - a.mod) })
	for _, a := range all[min(keep, len(all)):] {
		os.Remove(filepath.Join(dir, a.name))
	}
}

// Sum fingerprints parts, for keys of results that depend on nothing else.
func Sum(parts ...string) string {
	h := sha256.New()
	field(h, format)
	for _, p := range parts {
		field(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SelfContained reports whether what the go command loads for the module
// in dir depends only on its own files and the module cache: not on a
// workspace, a replacement by a directory, or vendored sources.
func SelfContained(dir string) bool { return !outsideInputs(dir) }

func outsideInputs(dir string) bool {
	if v := os.Getenv("GOWORK"); v != "" && v != "off" {
		return true
	}
	if os.Getenv("GOWORK") == "" {
		for d := dir; ; d = filepath.Dir(d) {
			if exists(filepath.Join(d, "go.work")) {
				return true
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exists(filepath.Join(dir, "vendor")) {
		return true
	}
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return true
	}
	mf, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		return true
	}
	for _, r := range mf.Replace {
		if modfile.IsDirectoryPath(r.New.Path) {
			return true
		}
	}
	return false
}

// binaryIdentity names the spgen build that generates: its module version
// and revision and, for builds without a release version, the executable
// itself.
func binaryIdentity() string {
	id := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		id = bi.Main.Path + "@" + bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				id += " " + s.Key + "=" + s.Value
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" && !strings.Contains(bi.Main.Version, "+dirty") {
			return id
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return id
	}
	info, err := os.Stat(exe)
	if err != nil {
		return id + " " + exe
	}
	return fmt.Sprintf("%s %s %d %d", id, exe, info.Size(), info.ModTime().UnixNano())
}

// field writes one length-prefixed part, so that parts cannot run into
// each other.
func field(h hash.Hash, s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
