// Package gocmd runs the go command as a child that does not outlive spgen.
package gocmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command returns `go args...` run in dir, in its own process group:
// cancelling ctx kills it and every compiler it started. Where the system
// allows, it is also killed when spgen dies, even by SIGKILL, so that
// nothing it writes (a `go mod tidy` rewriting go.mod in a stage) lands
// after the next spgen command has cleaned up.
func Command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Environ is the environment of every go command spgen runs, and of every
// package load: the user's, except that the go command may not update
// go.mod or go.sum on its own. GOFLAGS=-mod=mod (in the environment or set
// with go env -w) would let a package load rewrite go.sum during
// generate --check or --dry-run, which promise to write nothing; it becomes
// -mod=readonly. Only `go mod tidy`, which spgen runs on copies in a stage,
// changes those files.
func Environ() []string {
	environOnce.Do(func() {
		flags := os.Getenv("GOFLAGS")
		if flags == "" {
			// A value set with go env -w lives in the go command's own
			// configuration file.
			if out, err := exec.Command("go", "env", "GOFLAGS").Output(); err == nil {
				flags = strings.TrimSpace(string(out))
			}
		}
		environ = append(os.Environ(), "GOFLAGS="+readOnlyFlags(flags))
	})
	return slices.Clone(environ)
}

var (
	environOnce sync.Once
	environ     []string
)

// readOnlyFlags replaces -mod=mod in a GOFLAGS value by -mod=readonly.
func readOnlyFlags(flags string) string {
	fields := strings.Fields(flags)
	for i, f := range fields {
		if f == "-mod=mod" || f == "--mod=mod" {
			fields[i] = "-mod=readonly"
		}
	}
	return strings.Join(fields, " ")
}

// Env is what of the go command's environment shapes what it loads and
// builds.
type Env struct {
	GOVERSION, GOOS, GOARCH, GOFLAGS, GOMODCACHE, GOCACHE, GOEXPERIMENT, GOAMD64, GOARM64, CGO_ENABLED string
}

// Fingerprint names the environment, for keys of caches that depend on it.
func (e Env) Fingerprint() string { return fmt.Sprintf("%+v", e) }

var (
	envMu    sync.Mutex
	envByDir = map[string]Env{}
)

// GoEnv returns the go command's environment for the module in dir, asking
// the go command once per directory and process: every cache key of a run
// needs it.
func GoEnv(ctx context.Context, dir string) (Env, error) {
	envMu.Lock()
	defer envMu.Unlock()
	if e, ok := envByDir[dir]; ok {
		return e, nil
	}
	var e Env
	out, err := Command(ctx, dir, "env", "-json", "GOVERSION", "GOOS", "GOARCH", "GOFLAGS", "GOMODCACHE", "GOCACHE", "GOEXPERIMENT", "GOAMD64", "GOARM64", "CGO_ENABLED").Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(exit.Stderr))
		}
		return e, fmt.Errorf("go env: %w", err)
	}
	if err := json.Unmarshal(out, &e); err != nil {
		return e, fmt.Errorf("go env: %w", err)
	}
	envByDir[dir] = e
	return e, nil
}
