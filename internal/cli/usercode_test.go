package cli_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/testutil/envtestbin"
)

// TestUserCodeMovesIn moves a provider author's own code into a fresh
// project without touching a file spgen owns: a package under pkg/ with
// its own tests, used by the reconciler; reconciler fields renamed and
// added; a plain unit test next to the envtest suite. Then generate,
// build, vet and the whole test suite pass; with no API server binaries
// the tests build them from the module proxy, and with no module proxy
// either the plain unit test still passes; and the Docker build context builds
// the binary.
func TestUserCodeMovesIn(t *testing.T) {
	dir := newProject(t)
	write(t, dir, "pkg/naming/naming.go", `// Package naming names what the provider creates.
package naming

// Workload is the name of the workload of an instance.
func Workload(instance string) string { return "velero-" + instance }
`)
	write(t, dir, "pkg/naming/naming_test.go", `package naming

import "testing"

func TestWorkload(t *testing.T) {
	if got := Workload("a1"); got != "velero-a1" {
		t.Fatalf("Workload = %q", got)
	}
}
`)
	controller := filepath.Join(dir, "internal", "controller", "velero_controller.go")
	lifecycle := filepath.Join(dir, "internal", "controller", "lifecycle.go")
	// Rename a shared field, add two of the user's own to the kind's
	// reconciler, and use the package.
	edit(t, lifecycle, "\tRecorder events.EventRecorder\n", "\tEvents events.EventRecorder\n")
	edit(t, lifecycle, "\t\tRecorder:          d.Recorder,\n", "\t\tEvents:            d.Recorder,\n")
	for _, use := range []string{"warn(l.Recorder, obj, reason, \"Delete\", msg)", "warn(l.Recorder, obj, reason, action, msg)", "released(l.Recorder, r.obj, results)", "released(l.Recorder, r.obj, results)"} {
		edit(t, lifecycle, use, strings.Replace(use, "l.Recorder", "l.Events", 1))
	}
	edit(t, controller, "\tLifecycle\n}", "\tLifecycle\n\t// Names is the user's own dependency.\n\tNames func(string) string\n\t// Clock is another.\n\tClock func() time.Time\n}")
	edit(t, controller, "return &VeleroReconciler{Lifecycle: newLifecycle(d)}", "return &VeleroReconciler{Lifecycle: newLifecycle(d), Names: naming.Workload, Clock: time.Now}")
	edit(t, controller, "\t\"context\"\n", "\t\"context\"\n\t\"time\"\n")
	edit(t, controller, "\treturn \"velero-\" + instance(obj)\n", "\treturn naming.Workload(instance(obj))\n")
	edit(t, controller, "\t\"example.com/acme/sp-velero/internal/provider\"\n", "\t\"example.com/acme/sp-velero/internal/provider\"\n\t\"example.com/acme/sp-velero/pkg/naming\"\n")
	write(t, dir, "internal/controller/plain_test.go", `package controller_test

import (
	"testing"

	"example.com/acme/sp-velero/pkg/naming"
)

// TestPlainUnit needs no API server.
func TestPlainUnit(t *testing.T) {
	if naming.Workload("x") == "" {
		t.Fatal("empty name")
	}
}
`)
	before := spgenOwned(t, dir)
	if code, _, stderr := run(t, "generate", "--dir", dir); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	if after := spgenOwned(t, dir); after != before {
		t.Errorf("generate changed spgen-owned files for the user's code:\nbefore: %s\nafter:  %s", before, after)
	}

	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}, {"test", "-count=1", "./..."}} {
		if out, err := goIn(dir, []string{"KUBEBUILDER_ASSETS=" + assets}, args...); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// No binaries anywhere: the API server tests build them from the Go
	// module proxy into setup-envtest's store, say so, and pass.
	data := t.TempDir()
	out, err := goDetached(dir, []string{"KUBEBUILDER_ASSETS=", "XDG_DATA_HOME=" + data}, "test", "-count=1", "-v", "./internal/controller/")
	if err != nil {
		t.Fatalf("API server tests without binaries: %v\n%s", err, out)
	}
	building := "apiserver: building kube-apiserver " + envtestbin.Kubernetes + " and etcd " + envtestbin.Etcd + " from the Go module proxy"
	for _, want := range []string{"--- PASS: TestPlainUnit", "--- PASS: TestVeleroLifecycle", building} {
		if !strings.Contains(out, want) {
			t.Errorf("test output without binaries lacks %q:\n%s", want, out)
		}
	}
	item := filepath.Join(data, "kubebuilder-envtest", "k8s", strings.TrimPrefix(envtestbin.Kubernetes, "v")+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(item, name)); err != nil {
			t.Errorf("the tests did not keep %s in setup-envtest's store: %v", name, err)
		}
	}

	// Neither binaries nor a module proxy with their sources: the plain
	// test passes, the API server tests fail saying how to provide them.
	testBin := filepath.Join(t.TempDir(), "controller.test")
	if out, err := goIn(dir, nil, "test", "-c", "-o", testBin, "./internal/controller/"); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	offline := []string{"KUBEBUILDER_ASSETS=", "XDG_DATA_HOME=" + t.TempDir(), "GOPROXY=off", "GOMODCACHE=" + t.TempDir()}
	out, err = runDetached(filepath.Join(dir, "internal", "controller"), offline, testBin, "-test.v")
	if err == nil {
		t.Fatalf("API server tests passed without binaries:\n%s", out)
	}
	for _, want := range []string{"--- PASS: TestPlainUnit", "--- FAIL: TestVeleroLifecycle", "building them from the Go module proxy failed", "set KUBEBUILDER_ASSETS to a directory holding kube-apiserver and etcd"} {
		if !strings.Contains(out, want) {
			t.Errorf("offline test output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "panic:") {
		t.Errorf("offline tests panicked:\n%s", out)
	}

	// What the Dockerfile's COPY lines bring in builds the binary.
	context := dockerContext(t, dir)
	if out, err := goIn(context, nil, "build", "-o", os.DevNull, "./cmd/sp-velero"); err != nil {
		t.Fatalf("the Docker build context does not build the binary: %v\n%s", err, out)
	}
	for _, left := range []string{"test", "internal/controller/plain_test.go", ".spgen"} {
		if _, err := os.Stat(filepath.Join(context, left)); err == nil {
			t.Errorf("%s is in the Docker build context", left)
		}
	}
}

// TestGenerateExplainsCollisions: a type of the user's with the name of one
// spgen scaffolded gets a hint naming the scaffolded file to change.
func TestGenerateExplainsCollisions(t *testing.T) {
	dir := newProject(t)
	write(t, dir, "api/v1alpha1/mine.go", "package v1alpha1\n\n// ManagedResource is the user's own.\ntype ManagedResource struct {\n\tName string `json:\"name\"`\n}\n")
	code, _, stderr := run(t, "generate", "--dir", dir)
	if code != 1 {
		t.Fatalf("generate: exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{
		"api/v1alpha1/mine.go:4:6: ManagedResource redeclared in this block (other declaration at api/v1alpha1/common_types.go:",
		"hint: ManagedResource is declared in api/v1alpha1/mine.go and in api/v1alpha1/common_types.go, which spgen scaffolded; that file is yours: delete or rename its ManagedResource",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("message lacks %q:\n%s", want, stderr)
		}
	}
}

// spgenOwned fingerprints the files the lock records as generated.
func spgenOwned(t *testing.T, dir string) string {
	t.Helper()
	lock, err := scaffold.ParseManifest([]byte(readFile(t, filepath.Join(dir, scaffold.ManifestPath))))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range lock.Files {
		if e.Owner == scaffold.Generated {
			out = append(out, e.Path+"="+scaffold.Hash([]byte(readFile(t, filepath.Join(dir, e.Path)))))
		}
	}
	return strings.Join(out, " ")
}

// dockerContext copies what `docker build .` sends as its context:
// everything .dockerignore does not exclude.
func dockerContext(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil || excluded {
			if d.IsDir() && err == nil {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(out, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// goDetached runs the go command without a controlling terminal, so that
// what the generated tests would say on one goes to their output.
func goDetached(dir string, env []string, args ...string) (string, error) {
	return runDetached(dir, env, "go", args...)
}

func runDetached(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func goIn(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInPackageTestsBesideGenerated: a user's test file in package
// controller, beside the scaffold's external controller_test files, makes
// the go command rebuild the wiring against the test variant of the
// controller package. The type-check before writing must do the same, or
// every generate that changes the wiring fails on code that builds.
func TestInPackageTestsBesideGenerated(t *testing.T) {
	dir := newProject(t)
	write(t, dir, "internal/controller/mine_test.go", "package controller\n\nimport \"testing\"\n\nfunc TestMine(t *testing.T) {}\n")
	if code, _, stderr := run(t, "add-api", "--kind", "Schedule", "--dir", dir); code != 0 {
		t.Fatalf("add-api with an in-package test file: exit %d\n%s", code, stderr)
	}
	if out, err := goIn(dir, nil, "vet", "./internal/..."); err != nil {
		t.Fatalf("go vet: %v\n%s", err, out)
	}
}

// TestMissingRequirementNamed: a test importing a module go.mod does not
// require is reported at the import, with the command that fixes it, on
// every run (the failed answer is not remembered).
func TestMissingRequirementNamed(t *testing.T) {
	dir := newProject(t)
	write(t, dir, "internal/controller/cmp_test.go", "package controller_test\n\nimport (\n\t\"testing\"\n\n\t\"github.com/google/go-cmp/cmp\"\n)\n\nfunc TestCmp(t *testing.T) { _ = cmp.Equal(1, 1) }\n")
	before := treeState(t, dir)
	for range 2 {
		code, _, stderr := run(t, "add-api", "--kind", "Schedule", "--dir", dir)
		want := "internal/controller/cmp_test.go:6:2: github.com/google/go-cmp/cmp is imported, but no module go.mod requires provides it; run go get github.com/google/go-cmp/cmp"
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("add-api: exit %d, want 1 and %q:\n%s", code, want, stderr)
		}
	}
	if treeState(t, dir) != before {
		t.Error("the failed add-api changed the project")
	}
}
