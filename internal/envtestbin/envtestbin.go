// Package envtestbin provides kube-apiserver and etcd binaries for envtest.
// They come from KUBEBUILDER_ASSETS when set; otherwise they are built from
// the Go module proxy (no other download is needed) and cached per version
// in the user cache directory, under a file lock so that parallel test
// processes build them once.
package envtestbin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Versions of the binaries.
const (
	Kubernetes = "v1.34.0"
	Etcd       = "v3.6.5"
)

// stagingModules are the k8s.io modules k8s.io/kubernetes requires at v0.0.0
// and replaces with local paths; each must be pinned to the release.
var stagingModules = []string{
	"api", "apiextensions-apiserver", "apimachinery", "apiserver", "cli-runtime", "client-go",
	"cloud-provider", "cluster-bootstrap", "code-generator", "component-base", "component-helpers",
	"controller-manager", "cri-api", "cri-client", "csi-translation-lib", "dynamic-resource-allocation",
	"endpointslice", "externaljwt", "kms", "kube-aggregator", "kube-controller-manager", "kube-proxy",
	"kube-scheduler", "kubectl", "kubelet", "metrics", "mount-utils", "pod-security-admission",
	"sample-apiserver", "sample-cli-plugin", "sample-controller",
}

// Assets returns a directory holding kube-apiserver and etcd, building them
// on first use. Progress goes to log.
func Assets(ctx context.Context, log io.Writer) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "spgen", "envtest", "kubernetes-"+Kubernetes+"-etcd-"+Etcd)
	if complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete(dir) { // built by another process while we waited
		return dir, nil
	}
	if err := buildEtcd(ctx, dir, log); err != nil {
		return "", err
	}
	if err := buildAPIServer(ctx, dir, log); err != nil {
		return "", err
	}
	return dir, nil
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
	fmt.Fprintf(&mod, "module spgen.local/envtest/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n\nreplace (\n", Etcd)
	for _, m := range []string{"api", "client/pkg", "client", "pkg"} {
		fmt.Fprintf(&mod, "\tgo.etcd.io/etcd/%s/v3 => go.etcd.io/etcd/%s/v3 %s\n", m, m, Etcd)
	}
	mod.WriteString(")\n")
	return build(ctx, log, "etcd "+Etcd, mod.String(), "go.etcd.io/etcd/server/v3@"+Etcd, "go.etcd.io/etcd/server/v3", filepath.Join(dir, "etcd"))
}

func buildAPIServer(ctx context.Context, dir string, log io.Writer) error {
	staging := "v0" + strings.TrimPrefix(Kubernetes, "v1")
	var mod strings.Builder
	fmt.Fprintf(&mod, "module spgen.local/envtest/apiserver\n\ngo 1.24\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n", Kubernetes)
	for _, m := range stagingModules {
		fmt.Fprintf(&mod, "\tk8s.io/%s => k8s.io/%s %s\n", m, m, staging)
	}
	mod.WriteString(")\n")
	return build(ctx, log, "kube-apiserver "+Kubernetes, mod.String(), "k8s.io/kubernetes/cmd/kube-apiserver@"+Kubernetes, "k8s.io/kubernetes/cmd/kube-apiserver", filepath.Join(dir, "kube-apiserver"))
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
	fmt.Fprintf(log, "envtest: building %s from the Go module proxy (first run only, a few minutes) ...\n", name)
	tmp := out + ".tmp"
	for _, args := range [][]string{{"get", getArg}, {"build", "-o", tmp, pkg}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = scratch
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if output, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: go %s: %w\n%s", name, strings.Join(args, " "), err, output)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(log, "envtest: built %s in %s\n", name, time.Since(start).Round(time.Second))
	return nil
}
