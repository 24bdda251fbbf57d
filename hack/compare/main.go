// Command compare times spgen and kubebuilder side by side on the same
// machine, in one run, alternating the tools from round to round so that a
// busy moment hurts both alike. It reports the median of each measure, the
// ratios the speed targets are stated in, and the peak memory of spgen's
// commands.
//
//	go run ./hack/compare [-rounds 5] [-kubebuilder v4.10.1]
//
// kubebuilder is built from the Go module proxy once and kept in the user
// cache directory. Caches must be warm for meaningful numbers: the first
// round of each tool is a warm-up and is not counted.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 5, "measured rounds per tool (plus one warm-up)")
	kbVersion := flag.String("kubebuilder", "v4.10.1", "kubebuilder version to build from the module proxy")
	flag.Parse()
	if err := compare(*rounds, *kbVersion); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// sample is one timed command.
type sample struct {
	wall   time.Duration
	maxRSS int64 // KiB
}

type results map[string][]sample

func (r results) add(name string, s sample) { r[name] = append(r[name], s) }

func (r results) median(name string) time.Duration {
	var ds []time.Duration
	for _, s := range r[name] {
		ds = append(ds, s.wall)
	}
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)/2]
}

func (r results) peakRSS(name string) int64 {
	var peak int64
	for _, s := range r[name] {
		peak = max(peak, s.maxRSS)
	}
	return peak
}

func compare(rounds int, kbVersion string) error {
	work, err := os.MkdirTemp("", "spgen-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	spgen := filepath.Join(work, "spgen")
	step("building spgen")
	if _, err := run("", nil, "go", "build", "-o", spgen, "./cmd/spgen"); err != nil {
		return err
	}
	kb, err := kubebuilder(kbVersion)
	if err != nil {
		return err
	}

	r := results{}
	for i := 0; i <= rounds; i++ {
		step(fmt.Sprintf("round %d of %d%s", i, rounds, map[bool]string{true: " (warm-up)"}[i == 0]))
		round := results{}
		dir := filepath.Join(work, fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		tools := []func() error{
			func() error { return spgenRound(round, spgen, dir) },
			func() error { return kubebuilderRound(round, kb, dir) },
		}
		if i%2 == 1 {
			slices.Reverse(tools)
		}
		for _, t := range tools {
			if err := t(); err != nil {
				return err
			}
		}
		if i > 0 {
			for name, ss := range round {
				r[name] = append(r[name], ss...)
			}
		}
		os.RemoveAll(dir)
	}
	report(r, rounds, kbVersion)
	return nil
}

// kubebuilder builds the given version once into the user cache directory,
// from a scratch module that requires it: `go install pkg@version` asks the
// proxy for the module's version list, which some proxies refuse.
func kubebuilder(version string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "spgen-compare", "kubebuilder-"+version)
	kb := filepath.Join(dir, "kubebuilder")
	if _, err := os.Stat(kb); err == nil {
		return kb, nil
	}
	step("building kubebuilder " + version + " from the module proxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	gomod := "module kubebuilderbuild\n\ngo 1.24\n\nrequire sigs.k8s.io/kubebuilder/v4 " + version + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return "", err
	}
	_, err = run(dir, nil, "go", "build", "-mod=mod", "-o", kb, "sigs.k8s.io/kubebuilder/v4")
	return kb, err
}

func spgenRound(r results, spgen, dir string) error {
	p := filepath.Join(dir, "sp-velero")
	timed := func(name string, args ...string) error {
		s, err := timeCmd(p, spgen, args...)
		r.add(name, s)
		return err
	}
	// init runs in the parent directory; the others in the project.
	s, err := timeCmd(dir, spgen, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", p, "--sample")
	if err != nil {
		return err
	}
	r.add("spgen init", s)
	if err := timed("spgen generate --check (nothing changed)", "generate", "--check"); err != nil {
		return err
	}
	// CI checks sources spgen has not seen: a comment makes them new.
	if err := appendComment(filepath.Join(p, "cmd", "sp-velero", "main.go")); err != nil {
		return err
	}
	if err := timed("spgen generate --check (nothing changed, sources new to spgen)", "generate", "--check"); err != nil {
		return err
	}
	if err := editTypes(filepath.Join(p, "api", "v1alpha1", "velero_types.go"), "type VeleroSpec struct {\n"); err != nil {
		return err
	}
	if err := timed("spgen generate (types edit, 1 kind)", "generate"); err != nil {
		return err
	}
	if err := timed("spgen add-api", "add-api", "--kind", "Schedule"); err != nil {
		return err
	}
	// Generate after an edit with 5 and with 10 kinds.
	for _, step := range []struct {
		add    []string
		edited string
		name   string
	}{
		{[]string{"Backup", "Restore", "Location"}, "Schedule", "5 kinds"},
		{[]string{"Snapshot", "Volume", "Hook", "Plugin", "Repository"}, "Backup", "10 kinds"},
	} {
		for _, k := range step.add {
			if _, err := timeCmd(p, spgen, "add-api", "--kind", k); err != nil {
				return err
			}
		}
		types := filepath.Join(p, "api", "v1alpha1", strings.ToLower(step.edited)+"_types.go")
		if err := editTypes(types, "type "+step.edited+"Spec struct {\n"); err != nil {
			return err
		}
		if err := timed("spgen generate (types edit, "+step.name+")", "generate"); err != nil {
			return err
		}
	}
	return timed("spgen generate --check (nothing changed, 10 kinds)", "generate", "--check")
}

func kubebuilderRound(r results, kb, dir string) error {
	p := filepath.Join(dir, "kb-velero")
	if err := os.MkdirAll(p, 0o755); err != nil {
		return err
	}
	start := time.Now()
	if _, err := run(p, nil, kb, "init", "--domain", "example.com", "--repo", "example.com/acme/kb-velero", "--skip-go-version-check"); err != nil {
		return err
	}
	if _, err := run(p, nil, kb, "create", "api", "--group", "velero", "--version", "v1alpha1", "--kind", "Velero", "--resource", "--controller"); err != nil {
		return err
	}
	r.add("kubebuilder init + create api", sample{wall: time.Since(start)})
	if err := editTypes(filepath.Join(p, "api", "v1alpha1", "velero_types.go"), "type VeleroSpec struct {\n"); err != nil {
		return err
	}
	s, err := timeCmd(p, "make", "generate", "manifests")
	r.add("kubebuilder make generate manifests (types edit)", s)
	return err
}

// appendComment makes a file new to any cache without changing what it
// means.
func appendComment(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "\n// touched at %d\n", time.Now().UnixNano())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// editTypes adds a list field after the given line, as a user would. Every
// edit is new, so that no tool answers it from a cache.
func editTypes(path, after string) error {
	field := fmt.Sprintf("\t// Extra is a field added at %d.\n\t// +optional\n\tExtra []string `json:\"extra,omitempty\"`\n", time.Now().UnixNano())
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(after)) {
		return fmt.Errorf("%s has no %q", path, after)
	}
	return os.WriteFile(path, bytes.Replace(b, []byte(after), []byte(after+field), 1), 0o644)
}

func timeCmd(dir, name string, args ...string) (sample, error) {
	start := time.Now()
	ps, err := run(dir, nil, name, args...)
	s := sample{wall: time.Since(start)}
	if ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			s.maxRSS = ru.Maxrss
		}
	}
	return s, err
}

func run(dir string, env []string, name string, args ...string) (*os.ProcessState, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return cmd.ProcessState, fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
	}
	return cmd.ProcessState, nil
}

func step(msg string) { fmt.Fprintf(os.Stderr, "compare: %s\n", msg) }

func report(r results, rounds int, kbVersion string) {
	fmt.Printf("medians of %d rounds, kubebuilder %s\n\n", rounds, kbVersion)
	names := make([]string, 0, len(r))
	for name := range r {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		line := fmt.Sprintf("%-64s %6.2fs", name, r.median(name).Seconds())
		if rss := r.peakRSS(name); rss > 0 {
			line += fmt.Sprintf("   peak %4d MiB", rss/1024)
		}
		fmt.Println(line)
	}
	ratio := func(kb, sp string) float64 { return r.median(kb).Seconds() / r.median(sp).Seconds() }
	fmt.Printf("\ninit: kubebuilder/spgen = %.1f× (target ≥ 4×)\n", ratio("kubebuilder init + create api", "spgen init"))
	fmt.Printf("generate after a types edit: kubebuilder/spgen = %.1f× (target ≥ 3×)\n",
		ratio("kubebuilder make generate manifests (types edit)", "spgen generate (types edit, 1 kind)"))
}
