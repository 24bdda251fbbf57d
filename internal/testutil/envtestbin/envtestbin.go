// Package envtestbin provides kube-apiserver and etcd binaries for envtest.
// They come from KUBEBUILDER_ASSETS when set, or from setup-envtest's store
// (where the generated projects look for them too); otherwise they are built
// from the Go module proxy (no other download is needed) straight into that
// store, under a file lock so that parallel test processes build them once.
package envtestbin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/modfile"

	"github.com/open-control-plane/spgen/internal/gocmd"
	"github.com/open-control-plane/spgen/internal/stack"
)

// Versions of the binaries: those the generated projects' tests build.
const (
	Kubernetes = stack.Kubernetes
	Etcd       = stack.Etcd
)

// Assets returns a directory holding kube-apiserver and etcd, building them
// on first use. Progress goes to log.
func Assets(ctx context.Context, log io.Writer) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	dir, err := StoreItem()
	if err != nil {
		return "", err
	}
	if complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	// The generated projects' tests take the same lock.
	unlock, err := lock(dir + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete(dir) { // built by another process while we waited
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := buildEtcd(ctx, dir, log); err != nil {
		return "", err
	}
	if err := buildAPIServer(ctx, dir, log); err != nil {
		return "", err
	}
	return dir, nil
}

// StoreItem is the directory setup-envtest's store keeps this version in:
// <data dir>/kubebuilder-envtest/k8s/<version>-<os>-<arch>.
func StoreItem() (string, error) {
	base := os.Getenv("XDG_DATA_HOME")
	switch {
	case runtime.GOOS == "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, "Library", "Application Support", "io.kubebuilder.envtest")
	case base != "":
		base = filepath.Join(base, "kubebuilder-envtest")
	default:
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".local", "share", "kubebuilder-envtest")
	}
	name := fmt.Sprintf("%s-%s-%s", strings.TrimPrefix(Kubernetes, "v"), runtime.GOOS, runtime.GOARCH)
	return filepath.Join(base, "k8s", name), nil
}

func complete(dir string) bool {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Size() == 0 {
			return false
		}
	}
	return true
}

func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func buildEtcd(ctx context.Context, dir string, log io.Writer) error {
	var mod strings.Builder
	fmt.Fprintf(&mod, "module spgen.local/envtest/etcd\n\ngo 1.26\n\nrequire go.etcd.io/etcd/server/v3 %s\n\nreplace (\n", Etcd)
	for _, m := range []string{"api", "client/pkg", "client", "pkg"} {
		fmt.Fprintf(&mod, "\tgo.etcd.io/etcd/%s/v3 => go.etcd.io/etcd/%s/v3 %s\n", m, m, Etcd)
	}
	mod.WriteString(")\n")
	return build(ctx, log, "etcd "+Etcd, mod.String(), "go.etcd.io/etcd/server/v3@"+Etcd, "go.etcd.io/etcd/server/v3", filepath.Join(dir, "etcd"))
}

// buildAPIServer builds kube-apiserver from k8s.io/kubernetes, whose go.mod
// requires its staging modules at v0.0.0 and replaces them with local
// paths: each must be pinned to the matching release instead.
func buildAPIServer(ctx context.Context, dir string, log io.Writer) error {
	staging, err := stagingModules(ctx, log)
	if err != nil {
		return err
	}
	release := "v0" + strings.TrimPrefix(Kubernetes, "v1")
	var mod strings.Builder
	fmt.Fprintf(&mod, "module spgen.local/envtest/apiserver\n\ngo 1.26\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n", Kubernetes)
	for _, m := range staging {
		fmt.Fprintf(&mod, "\t%s => %s %s\n", m, m, release)
	}
	mod.WriteString(")\n")
	return build(ctx, log, "kube-apiserver "+Kubernetes, mod.String(), "k8s.io/kubernetes/cmd/kube-apiserver@"+Kubernetes, "k8s.io/kubernetes/cmd/kube-apiserver", filepath.Join(dir, "kube-apiserver"))
}

// stagingModules reads the modules k8s.io/kubernetes replaces with
// directories of its own repository.
func stagingModules(ctx context.Context, log io.Writer) ([]string, error) {
	scratch, err := os.MkdirTemp("", "spgen-envtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	out, err := retry(ctx, log, "downloading the go.mod of k8s.io/kubernetes "+Kubernetes, scratch, "mod", "download", "-json", "k8s.io/kubernetes@"+Kubernetes)
	if err != nil {
		return nil, err
	}
	var info struct{ GoMod string }
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("reading go mod download output: %w", err)
	}
	data, err := os.ReadFile(info.GoMod)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	var mods []string
	for _, r := range f.Replace {
		if strings.HasPrefix(r.New.Path, "./staging/") {
			mods = append(mods, r.Old.Path)
		}
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("k8s.io/kubernetes %s replaces no staging modules; cannot build kube-apiserver from it", Kubernetes)
	}
	return mods, nil
}

// build compiles pkg from a scratch module and moves the binary to out only
// when the build succeeded.
func build(ctx context.Context, log io.Writer, name, goMod, getArg, pkg, out string) error {
	scratch, err := os.MkdirTemp("", "spgen-envtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := os.WriteFile(filepath.Join(scratch, "go.mod"), []byte(goMod), 0o644); err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(log, "envtest: building %s from the Go module proxy (first run only, about 3 minutes on 2 cores) ...\n", name)
	if _, err := retry(ctx, log, "downloading the modules of "+name, scratch, "get", getArg); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if output, err := goCommand(ctx, scratch, "build", "-o", tmp, pkg).CombinedOutput(); err != nil {
		return fmt.Errorf("compiling %s: go build: %w\n%s", name, err, output)
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(log, "envtest: built %s in %s\n", name, time.Since(start).Round(time.Second))
	return nil
}

// retry runs a go command that talks to the module proxy up to three
// times: a proxy that is briefly unreachable must not fail a test run that
// will not need it again.
func retry(ctx context.Context, log io.Writer, step, dir string, args ...string) ([]byte, error) {
	var out []byte
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		cmd := goCommand(ctx, dir, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if out, err = cmd.Output(); err == nil {
			return out, nil
		}
		err = fmt.Errorf("%s failed (go %s): %w\n%s", step, strings.Join(args, " "), err, stderr.String())
		if ctx.Err() != nil || attempt == 3 {
			break
		}
		fmt.Fprintf(log, "envtest: %s failed (attempt %d of 3), retrying in %ds\n", step, attempt, attempt*5)
		select {
		case <-time.After(time.Duration(attempt*5) * time.Second):
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		}
	}
	return nil, err
}

func goCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := gocmd.Command(ctx, dir, args...)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	return cmd
}
