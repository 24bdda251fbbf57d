package upgrade_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/upgrade"
	"github.com/open-control-plane/spgen/internal/workspace"
)

func veleroProject() *spec.Project {
	return &spec.Project{
		Module: "example.com/acme/sp-velero", Group: "velero", ProviderName: "velero",
		Kinds: []spec.Kind{{Kind: "Velero", Version: spec.DefaultVersion}},
	}
}

var (
	treesOnce          sync.Once
	oldTree, freshTree string
	treesErr           error
)

// trees creates, once, the project as generation 6 (the oldest spgen
// stores) wrote it and as the current generation writes it.
func trees(t *testing.T) (old, fresh string) {
	t.Helper()
	treesOnce.Do(func() {
		tmp, err := testutil.SharedDir("spgen-upgrade-")
		if err != nil {
			treesErr = err
			return
		}
		gen6, err := render.LookupGeneration("6")
		if err != nil {
			treesErr = err
			return
		}
		oldTree, freshTree = filepath.Join(tmp, "old"), filepath.Join(tmp, "fresh")
		if _, treesErr = initialize.Run(context.Background(), veleroProject(), initialize.Options{Dir: oldTree, SkipVerify: true, SpgenVersion: "devel", Generation: gen6}); treesErr != nil {
			return
		}
		_, treesErr = initialize.Run(context.Background(), veleroProject(), initialize.Options{Dir: freshTree, SkipVerify: true, SpgenVersion: "devel"})
	})
	if treesErr != nil {
		t.Fatal(treesErr)
	}
	return oldTree, freshTree
}

// oldProject is a fresh copy of a generation-6 project.
func oldProject(t *testing.T) string {
	t.Helper()
	old, _ := trees(t)
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if err := os.CopyFS(dir, os.DirFS(old)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func read(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replace(t *testing.T, dir, rel, old, new string) {
	t.Helper()
	s := read(t, dir, rel)
	if !strings.Contains(s, old) {
		t.Fatalf("%s does not contain %q", rel, old)
	}
	write(t, dir, rel, strings.Replace(s, old, new, 1))
}

func runUpgrade(t *testing.T, dir string, o upgrade.Options) (*upgrade.Result, error) {
	t.Helper()
	w, err := workspace.Open(dir, workspace.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	o.SpgenVersion = "devel"
	return upgrade.Run(context.Background(), w, o)
}

func goBuildVet(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
}

func action(res *upgrade.Result, path string) string {
	for _, f := range res.Files {
		if f.Path == path {
			return f.Action
		}
	}
	return ""
}

const (
	controllerFile = "internal/controller/velero_controller.go"
	typesFile      = "api/v1alpha1/velero_types.go"
	// legacyFile is a file an earlier generation wrote and the current
	// one does not (legacy adds it).
	legacyFile  = "config/samples/velero.yaml"
	newWorkflow = ".github/workflows/spgen-upgrade.yaml"
	// applyLine is a line of the controller generation 6 wrote and the
	// current templates changed (applyLineNow).
	applyLine    = "results, err := r.veleroObjects(ctx, obj, pc, cc, w).Apply(ctx)"
	applyLineNow = "return r.install(ctx, r.veleroRound(obj, pc, cc, w), 0)"
)

// legacy adds a file as an earlier generation wrote it, recorded in the
// lock file, which the current templates no longer produce.
func legacy(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(legacyFile)), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, legacyFile, content)
	entry := fmt.Sprintf("- hash: %s\n  owner: scaffolded\n  path: %s\n", scaffold.Hash([]byte(content)), legacyFile)
	write(t, dir, ".spgen/lock.yaml", strings.Replace(read(t, dir, ".spgen/lock.yaml"), "files:\n", "files:\n"+entry, 1))
}

// An untouched project upgrades to exactly what init writes today, stack
// bump included, and builds.
func TestUpgradeUntouched(t *testing.T) {
	dir := oldProject(t)
	if !strings.Contains(read(t, dir, "go.mod"), "sigs.k8s.io/controller-runtime v0.24.1") {
		t.Fatal("the generation-6 project does not have the old stack")
	}
	legacy(t, dir, "kind: Velero\n")
	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{controllerFile: upgrade.Replaced, "go.mod": upgrade.Replaced, legacyFile: upgrade.Removed, newWorkflow: upgrade.Created} {
		if got := action(res, path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	_, fresh := trees(t)
	got, err := testutil.ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := testutil.ReadTree(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if diff := testutil.DiffTrees(want, got); diff != "" {
		t.Fatalf("upgraded project differs from a fresh init:\n%s", diff)
	}
	goBuildVet(t, dir)

	res, err = runUpgrade(t, dir, upgrade.Options{})
	if err != nil || res.From != res.To || len(res.Changes) != 0 {
		t.Fatalf("second upgrade: %v, %+v", err, res)
	}
}

// User code in the reconciler and a new field in the types survive, next to
// the template's own change in the same file; the CRD follows the field.
func TestUpgradeKeepsUserCode(t *testing.T) {
	dir := oldProject(t)
	replace(t, dir, controllerFile, "func veleroNamespace(", "// userHelper is the user's own code.\nfunc userHelper() string { return \"mine\" }\n\nfunc veleroNamespace(")
	replace(t, dir, typesFile, "type VeleroSpec struct {", "type VeleroSpec struct {\n\t// Schedule is the user's field.\n\t// +optional\n\tSchedule string `json:\"schedule,omitempty\"`\n")
	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := action(res, controllerFile); got != upgrade.Merged {
		t.Errorf("%s: %q, want merged", controllerFile, got)
	}
	if got := action(res, typesFile); got != upgrade.Kept {
		t.Errorf("%s: %q, want kept", typesFile, got)
	}
	c := read(t, dir, controllerFile)
	if !strings.Contains(c, "func userHelper() string { return \"mine\" }") || !strings.Contains(c, applyLineNow) {
		t.Errorf("merged controller lost the user's code or the template's change:\n%s", c)
	}
	if !strings.Contains(read(t, dir, typesFile), "Schedule string") {
		t.Error("the user's field is gone")
	}
	if !strings.Contains(read(t, dir, "api/crds/manifests/velero.services.open-control-plane.io_veleroes.yaml"), "schedule:") {
		t.Error("the CRD was not regenerated from the user's types")
	}
	goBuildVet(t, dir)
}

// The user and the template changed the same line: conflict markers with the
// base section, the user's line present, exit code 1 through ConflictError,
// every other file upgraded.
func TestUpgradeConflict(t *testing.T) {
	dir := oldProject(t)
	replace(t, dir, controllerFile, applyLine, applyLine+" // tuned by us")
	res, err := runUpgrade(t, dir, upgrade.Options{})
	var conflict *upgrade.ConflictError
	if !errors.As(err, &conflict) || len(conflict.Paths) != 1 || conflict.Paths[0] != controllerFile {
		t.Fatalf("want a conflict in %s, got %v", controllerFile, err)
	}
	c := read(t, dir, controllerFile)
	for _, want := range []string{"<<<<<<< yours\n", applyLine + " // tuned by us", "||||||| spgen templates 6", applyLine + "\n", "=======\n", applyLineNow, ">>>>>>> spgen templates " + render.Current.Name} {
		if !strings.Contains(c, want) {
			t.Errorf("conflicted file lacks %q", want)
		}
	}
	if action(res, "Taskfile.yaml") != upgrade.Replaced || !strings.Contains(read(t, dir, "go.mod"), "controller-runtime v0.25.3") {
		t.Error("files without conflicts were not upgraded")
	}
	// The lock file moves when the upgrade is finished; until then the
	// record of the unfinished upgrade holds the one it will write.
	if !strings.Contains(read(t, dir, ".spgen/lock.yaml"), `templates: "6"`) || !strings.Contains(read(t, dir, ".spgen/upgrade.yaml"), `templates: "`+render.Current.Name+`"`) {
		t.Error("the lock file moved before the upgrade was finished, or the record lacks the new one")
	}
}

// A scaffolded file the user deleted stays deleted; an edited file the new
// templates no longer produce stays; an edited generated file is
// regenerated with a warning naming it; the user's go.mod lines stay.
func TestUpgradeRespectsDeletionsAndWarnsOnGeneratedEdits(t *testing.T) {
	dir := oldProject(t)
	if err := os.Remove(filepath.Join(dir, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	legacy(t, dir, "name: test\n")
	replace(t, dir, legacyFile, "name: test", "name: production")
	deepcopy := "api/v1alpha1/zz_generated.deepcopy.go"
	replace(t, dir, deepcopy, "package v1alpha1", "package v1alpha1\n\n// edited by hand")
	replace(t, dir, "go.mod", "go 1.26.5", "go 1.26.5\n\nexclude example.com/never v1.0.0")
	res, err := runUpgrade(t, dir, upgrade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".gitignore")); !os.IsNotExist(err) {
		t.Error("a deleted scaffolded file was recreated")
	}
	if action(res, ".gitignore") != upgrade.Kept {
		t.Errorf(".gitignore: %q, want kept", action(res, ".gitignore"))
	}
	if !strings.Contains(read(t, dir, legacyFile), "name: production") || action(res, legacyFile) != upgrade.Kept {
		t.Error("an edited file the templates no longer produce was not kept")
	}
	if strings.Contains(read(t, dir, deepcopy), "edited by hand") {
		t.Error("the edited generated file was not regenerated")
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w, deepcopy)
	}
	if !warned {
		t.Errorf("no warning names %s: %v", deepcopy, res.Warnings)
	}
	mod := read(t, dir, "go.mod")
	if action(res, "go.mod") != upgrade.Merged || !strings.Contains(mod, "exclude example.com/never v1.0.0") || !strings.Contains(mod, "apiextensions-apiserver v0.37.2") {
		t.Errorf("go.mod not merged by meaning (%s):\n%s", action(res, "go.mod"), mod)
	}
	sum := read(t, dir, "go.sum")
	if !strings.Contains(sum, "apiextensions-apiserver v0.37.2 ") || strings.Contains(sum, "apiextensions-apiserver v0.36.3 ") {
		t.Error("go.sum does not follow the stack")
	}
	goBuildVet(t, dir)
}

func TestUpgradeDryRunWritesNothing(t *testing.T) {
	dir := oldProject(t)
	before, err := testutil.ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res, err := runUpgrade(t, dir, upgrade.Options{DryRun: true, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) == 0 || !strings.Contains(out.String(), "+++ b/"+newWorkflow) || !strings.Contains(out.String(), "--- a/"+controllerFile) {
		t.Errorf("dry-run printed no plan or diff:\n%s", out.String())
	}
	after, err := testutil.ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := testutil.DiffTrees(before, after); diff != "" {
		t.Fatalf("dry-run changed the project:\n%s", diff)
	}
}

// When the recorded hash shows that the base cannot be reproduced, an
// edited file is not merged against a guess: the whole file is a conflict.
func TestUpgradeUnreproducibleBase(t *testing.T) {
	dir := oldProject(t)
	replace(t, dir, controllerFile, "func veleroNamespace(", "// mine\nfunc veleroNamespace(")
	lock := read(t, dir, ".spgen/lock.yaml")
	i := strings.Index(lock, "path: "+controllerFile)
	if i < 0 {
		t.Fatal("controller not in the lock")
	}
	// The hash line precedes the path line in the lock's field order.
	start := strings.LastIndex(lock[:i], "hash: sha256:")
	end := start + strings.Index(lock[start:], "\n")
	write(t, dir, ".spgen/lock.yaml", lock[:start]+"hash: sha256:"+strings.Repeat("0", 64)+lock[end:])
	_, err := runUpgrade(t, dir, upgrade.Options{})
	var conflict *upgrade.ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
	c := read(t, dir, controllerFile)
	if !strings.HasPrefix(c, "<<<<<<< yours\n") || !strings.Contains(c, "// mine\n") || !strings.Contains(c, applyLineNow) {
		t.Errorf("want the whole file as one conflict with both sides:\n%.400s", c)
	}
}

// A released spgen moves the version its Taskfile and CI pin, even within
// one template generation; a development build moves nothing.
func TestUpgradeMovesSpgenPin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sp-velero")
	if _, err := initialize.Run(context.Background(), veleroProject(), initialize.Options{Dir: dir, SkipVerify: true, SpgenVersion: "v0.3.0"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(read(t, dir, "Taskfile.yaml"), "cmd/spgen@v0.3.0") {
		t.Fatal("the Taskfile does not pin the spgen that wrote it")
	}
	w, err := workspace.Open(dir, workspace.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := upgrade.Run(context.Background(), w, upgrade.Options{SpgenVersion: "devel"})
	w.Close()
	if err != nil || res.From != res.To {
		t.Fatalf("a development build upgraded: %v %+v", err, res)
	}
	w, err = workspace.Open(dir, workspace.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	res, err = upgrade.Run(context.Background(), w, upgrade.Options{SpgenVersion: "v0.4.0", SkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if action(res, "Taskfile.yaml") != upgrade.Replaced || !strings.Contains(read(t, dir, ".github/workflows/ci.yaml"), "cmd/spgen@v0.4.0 generate --check") {
		t.Errorf("pin not moved: %+v", res.Files)
	}
	if !strings.Contains(read(t, dir, ".spgen/lock.yaml"), "spgenVersion: v0.4.0") {
		t.Error("lock does not record the new version")
	}
}

// committedAs makes the project in dir one that generation gen, which
// spgen no longer stores, wrote: files hold the given contents (the lock
// records their hashes), the lock names gen and its stack, and everything
// is committed to git, as a provider's repository holds it.
func committedAs(t *testing.T, dir, gen string, files map[string]string) {
	t.Helper()
	g, err := render.LookupGeneration(gen)
	if err != nil {
		t.Fatal(err)
	}
	w, err := workspace.Open(dir, workspace.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lock := w.Manifest.Clone()
	w.Close()
	for path, content := range files {
		write(t, dir, path, content)
		lock.Set(path, scaffold.Scaffolded, []byte(content))
	}
	lock.Templates, lock.Stack = g.Name, g.Stack.Version
	body, err := lock.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, ".spgen/lock.yaml", string(body))
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-qm", "generation " + gen}} {
		testutil.Git(t, dir, args...)
	}
}
