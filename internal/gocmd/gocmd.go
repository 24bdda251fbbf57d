// Package gocmd runs the go command as a child that does not outlive spgen.
package gocmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
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
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
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
