// Package warmup fills the Go module and build caches a project needs
// before spgen generates code for it and type-checks it, and shows what
// happens meanwhile: on a fresh machine that is a hundred modules to
// download and over a thousand packages to compile, minutes of work that
// would otherwise sit behind one silent progress line. Once a project's
// dependency set is warm, a marker in the user cache directory makes every
// later check cost a few file reads.
package warmup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/open-control-plane/spgen/internal/gocmd"
	"github.com/open-control-plane/spgen/internal/progress"
)

// Ensure downloads the modules of the module in dir and compiles every
// package its packages and tests import, unless an earlier run did so for
// the same go.mod, go.sum and Go toolchain.
func Ensure(ctx context.Context, dir string, rep *progress.Reporter) error {
	env, err := gocmd.GoEnv(ctx, dir)
	if err != nil {
		return err
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	goSum, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
	marker := markerPath(env, goMod, goSum)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	mf, err := modfile.ParseLax("go.mod", goMod, nil)
	if err != nil {
		return fmt.Errorf("reading go.mod: %w", err)
	}
	if err := download(ctx, dir, env, missing(env, mf), rep); err != nil {
		return err
	}
	if err := compile(ctx, dir, rep); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(marker), 0o777); err == nil {
		_ = os.WriteFile(marker, goMod, 0o666)
	}
	return nil
}

// Vet runs go vet over the module in dir once per dependency set, on a
// project that compiles, so that the facts go vet computes for every
// dependency (minutes for a thousand packages) are in the build cache
// before the user's first go vet. It is a warm-up: a finding or a failure
// is the user's go vet's to report, and only costs that run the time.
func Vet(ctx context.Context, dir string, rep *progress.Reporter) {
	env, err := gocmd.GoEnv(ctx, dir)
	if err != nil {
		return
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return
	}
	goSum, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
	marker := markerPath(env, goMod, goSum) + ".vet"
	if err := os.MkdirAll(filepath.Dir(marker), 0o777); err != nil {
		return
	}
	if _, err := os.Stat(marker); err == nil {
		return
	}
	done := rep.Step("preparing go vet (first run only)")
	err = gocmd.Command(ctx, dir, "vet", "./...").Run()
	done(nil)
	if err == nil {
		_ = os.WriteFile(marker, goMod, 0o666)
	}
}

// markerPath names what a warm cache was made for: the dependency set and
// everything of the toolchain that changes compiled output.
func markerPath(env gocmd.Env, goMod, goSum []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{goMod, goSum, []byte(env.Fingerprint()), []byte(buildFlagsVersion)} {
		fmt.Fprintf(h, "%d\n", len(part))
		h.Write(part)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "spgen", "warm", hex.EncodeToString(h.Sum(nil))[:32])
}

// buildFlagsVersion changes whenever the flags dependencies are compiled
// with change: a marker made for other flags says nothing about the cache.
const buildFlagsVersion = "go build (no -trimpath)"

// missing lists the required modules that are not in the module cache.
func missing(env gocmd.Env, mf *modfile.File) []string {
	var out []string
	for _, r := range mf.Require {
		escaped, err := module.EscapePath(r.Mod.Path)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(env.GOMODCACHE, escaped+"@"+r.Mod.Version)); err != nil {
			out = append(out, r.Mod.Path+"@"+r.Mod.Version)
		}
	}
	return out
}

// download fetches modules, a few at a time, counting them as they arrive.
func download(ctx context.Context, dir string, env gocmd.Env, mods []string, rep *progress.Reporter) error {
	if len(mods) == 0 {
		return nil
	}
	count := rep.Count("downloading modules (first run only)", "modules", len(mods))
	work := make(chan string)
	errs := make(chan error, len(mods))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				out, err := gocmd.Command(ctx, dir, "mod", "download", m).CombinedOutput()
				if err != nil {
					errs <- fmt.Errorf("downloading %s: %w\n%s", m, exitDetail(err), bytes.TrimSpace(out))
					continue
				}
				count.Add(1)
			}
		}()
	}
	for _, m := range mods {
		select {
		case work <- m:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	err := ctx.Err()
	if err == nil {
		err = <-errs
	}
	count.Done(err)
	return err
}

// compile builds every package the module's packages and tests import,
// with the flags the type-check uses, so that the type-check finds their
// export data in the build cache.
func compile(ctx context.Context, dir string, rep *progress.Reporter) error {
	deps, err := dependencies(ctx, dir)
	if err != nil {
		return err
	}
	count := rep.Count("compiling dependencies (first run only)", "packages", len(deps))
	// The flags are the ones the user's own go build, go vet and go test
	// use (none), so that this work is done once: -trimpath, for one, is
	// part of every compile's cache key.
	cmd := gocmd.Command(ctx, dir, append([]string{"build", "-v"}, deps...)...)
	stderr, err := cmd.StderrPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		count.Done(err)
		return err
	}
	var tail bytes.Buffer
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, " ") || strings.HasPrefix(line, "#") {
			tail.WriteString(line + "\n") // not a package name: an error
			continue
		}
		count.Add(1)
	}
	_, _ = io.Copy(&tail, stderr)
	err = cmd.Wait()
	if err == nil {
		// go build -v names only the packages it compiles, not those
		// already in the build cache.
		compiled := count.Count()
		count.Add(len(deps) - compiled)
		count.Note(fmt.Sprintf("%d already in the build cache", len(deps)-compiled))
	}
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("compiling dependencies: %w\n%s", exitDetail(err), summarize(tail.String()))
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	count.Done(err)
	return err
}

// dependencies lists every package outside the module that its packages
// and their tests import, the standard library included (it is compiled
// on first use too). Imports that do not resolve, such as generated
// packages not written yet, are left out: the go command would search the
// whole module graph for them.
func dependencies(ctx context.Context, dir string) ([]string, error) {
	out, err := gocmd.Command(ctx, dir, "list", "-e", "-deps", "-test", "-json=ImportPath,ForTest,Module,Standard", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("listing dependencies: %w", exitDetail(err))
	}
	var deps []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, ForTest string
			Standard            bool
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		external := p.Standard || (p.Module != nil && !p.Module.Main)
		if !external || p.ForTest != "" || strings.HasSuffix(p.ImportPath, ".test") {
			continue
		}
		deps = append(deps, p.ImportPath)
	}
	return deps, nil
}

// summarize shortens the go command's complaints: a go.sum without the
// entries the build needs is reported once per import, tens of lines that
// all mean one thing.
func summarize(out string) string {
	out = strings.TrimSpace(out)
	lines := strings.Split(out, "\n")
	if !strings.Contains(out, "missing go.sum entry") {
		return out
	}
	return fmt.Sprintf("go.sum lacks checksums the build needs (run go mod tidy, then spgen again); the first of %d complaints:\n%s", strings.Count(out, "missing go.sum entry"), strings.Join(lines[:min(2, len(lines))], "\n"))
}

func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}
