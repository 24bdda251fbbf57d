package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/cli"
)

// TestHostileSweep goes over the categories of the second round of hostile
// inputs with further cases: markers, API types, spgen.yaml, special files,
// journals and read-only commands. Every case must end with its exit code
// and message, without a crash or a hang, and (unless it succeeds in
// writing) with the project and the directory beside it unchanged.
func TestHostileSweep(t *testing.T) {
	dryRun := []string{"generate", "--dry-run"}
	check := []string{"generate", "--check"}
	field := func(f string) func(t *testing.T, e hostileEnv) { return addField(f, "") }
	cases := []hostileCase{
		// Permission markers.
		{name: "marker without arguments", setup: addMarker("// +spgen:rbac"), code: cli.ExitError,
			want: []string{markerAt, `missing argument "cluster"`, `missing argument "verbs"`}},
		{name: "marker with empty verbs", setup: addMarker("// +spgen:rbac:cluster=mcp,groups=apps,resources=deployments,verbs="), code: cli.ExitError,
			want: []string{markerAt, "grants no verbs"}},
		{name: "marker with empty cluster", setup: addMarker("// +spgen:rbac:cluster=,groups=apps,resources=deployments,verbs=get"), code: cli.ExitError,
			want: []string{markerAt, "does not exist; it must be one of onboarding, mcp, workload"}},
		{name: "marker with cluster in upper case", setup: addMarker("// +spgen:rbac:cluster=MCP,groups=apps,resources=deployments,verbs=get"), code: cli.ExitError,
			want: []string{markerAt, `cluster "MCP" does not exist`}},
		{name: "marker with semicolon between arguments", setup: addMarker("// +spgen:rbac:cluster=mcp;groups=apps"), code: cli.ExitError,
			want: []string{markerAt, `expected comma, got ";"`}},
		{name: "marker name in other case", setup: addMarker("// +spgen:Rbac:cluster=mcp,groups=apps,resources=deployments,verbs=get"), code: cli.ExitError,
			want: []string{markerAt, "unknown marker +spgen:Rbac:cluster", "did you mean +spgen:rbac?"}},
		{name: "bare spgen prefix", setup: addMarker("// +spgen:"), code: cli.ExitError, want: []string{markerAt, "unknown marker +spgen:"}},
		{name: "service marker without a workload cluster", setup: addMarker("// +spgen:service:rbac:groups=apps,resources=deployments,verbs=get"), code: cli.ExitError,
			want: []string{"+spgen:service:rbac markers", "no workload cluster"}},
		{name: "workload marker without a workload cluster", setup: addMarker("// +spgen:rbac:cluster=workload,groups=apps,resources=deployments,verbs=get"), code: cli.ExitError,
			want: []string{"cluster=workload", "use cluster=mcp"}},
		{name: "kubebuilder marker with a wildcard verb", setup: addMarker("// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=*"), args: dryRun, code: 0,
			want: []string{"warning: " + markerAt, "wildcard (*) on the mcp cluster"}},
		{name: "marker with resource names", setup: addMarker("// +spgen:rbac:cluster=mcp,groups=apps,resources=deployments,resourceNames=a;b,verbs=get"), args: dryRun, code: 0,
			want: []string{"config/rbac/role.yaml"}},
		{name: "marker in a block comment", setup: addMarker("/* +spgen:rbac:cluster=nowhere,verbs */"), args: dryRun, code: 0, want: []string{"0 file(s) would change"}},
		{name: "marker of 64 KiB", setup: addMarker("// +spgen:rbac:cluster=mcp,groups=apps,resources=" + strings.Repeat("d", 64<<10) + ",verbs=get"), args: dryRun, code: 0,
			want: []string{"config/rbac/role.yaml"}},
		{name: "unknown kubebuilder marker in the controller", setup: addMarker("// +kubebuilder:rbca:groups=apps,resources=deployments,verbs=get"), args: dryRun, code: 0,
			want: []string{"warning: " + markerAt, "unknown marker +kubebuilder:rbca:groups is ignored", "did you mean +kubebuilder:rbac?"}},
		{name: "kubebuilder scaffold marker", setup: addMarker("// +kubebuilder:scaffold:rbac"), args: dryRun, code: 0, want: []string{"0 file(s) would change"}},
		// API types.
		{name: "map of interface{}", setup: field("Values map[string]interface{} `json:\"values,omitempty\"`"), code: cli.ExitError,
			want: []string{typesFile + ":31:2", "interface type interface{}"}},
		{name: "slice of any", setup: field("Values []any `json:\"values,omitempty\"`"), code: cli.ExitError, want: []string{typesFile + ":31:2", "interface type any"}},
		{name: "pointer to any", setup: field("Value *any `json:\"value,omitempty\"`"), code: cli.ExitError, want: []string{typesFile + ":31:2", "interface type any"}},
		{name: "named type of any", setup: addField("Free Free `json:\"free,omitempty\"`", "\ntype Free any\n"), code: cli.ExitError,
			want: []string{typesFile + ":31:2", "VeleroSpec.Free (Free)"}},
		{name: "named interface with a method", setup: addField("Free Free `json:\"free,omitempty\"`", "\ntype Free interface{ M() }\n"), code: cli.ExitError,
			want: []string{typesFile + ":31:2", "interface type interface{M()}"}},
		{name: "two types containing each other", setup: addField("A *A `json:\"a,omitempty\"`", "\ntype A struct {\n\tB *B `json:\"b,omitempty\"`\n}\n\ntype B struct {\n\tA []A `json:\"a,omitempty\"`\n}\n"), code: cli.ExitError,
			want: []string{"type A contains itself", "A.B → B.A"}},
		{name: "type containing itself through a map", setup: addField("Tree Node `json:\"tree\"`", "\ntype Node struct {\n\tChildren map[string]Node `json:\"children,omitempty\"`\n}\n"), code: cli.ExitError,
			want: []string{"type Node contains itself"}},
		{name: "field of func type", setup: field("Hook func() `json:\"hook,omitempty\"`"), code: cli.ExitError, want: []string{typesFile + ":31:2", "invalid field type: func()"}},
		{name: "field of chan type", setup: field("C chan int `json:\"c,omitempty\"`"), code: cli.ExitError, want: []string{typesFile + ":31:2", "invalid field type: chan int"}},
		{name: "field without a JSON tag", setup: field("Replicas int32"), code: cli.ExitError, want: []string{typesFile + ":31:2", `struct field "Replicas" without JSON tag`}},
		{name: "syntax error in the types", setup: field("Replicas int32 `json:\"replicas\"` {"), code: cli.ExitError, want: []string{typesFile + ":31"}},
		{name: "type that does not exist", setup: field("Replicas Count `json:\"replicas\"`"), code: cli.ExitError, want: []string{typesFile + ":31", "undefined: Count"}},
		// spgen.yaml.
		{name: "byte order mark", setup: func(t *testing.T, e hostileEnv) {
			write(t, e.dir, "spgen.yaml", "\ufeff"+readFile(t, filepath.Join(e.dir, "spgen.yaml")))
		}, args: dryRun, code: 0, want: []string{"0 file(s) would change"}},
		{name: "alias bomb", setup: appendSpec("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"),
			code: cli.ExitUsage, want: []string{"spgen.yaml", "excessive aliasing"}},
		{name: "tab indentation", setup: editSpec("- kind: Velero\n  version", "- kind: Velero\n\tversion"), code: cli.ExitUsage, want: []string{"spgen.yaml:", "not valid YAML"}},
		{name: "kinds not a list", setup: editSpec("kinds:\n- kind: Velero\n  version: v1alpha1\n", "kinds: Velero\n"), code: cli.ExitUsage, want: []string{"spgen.yaml", "kinds"}},
		{name: "module a number", setup: editSpec("module: example.com/acme/sp-velero", "module: 42"), code: cli.ExitUsage, want: []string{"spgen.yaml", "module"}},
		{name: "unknown key", setup: appendSpec("extra: 1\n"), code: cli.ExitUsage, want: []string{"spgen.yaml:13", `unknown field "extra"`}},
		{name: "nested key in other case", setup: editSpec("- kind: Velero", "- Kind: Velero"), code: cli.ExitUsage, want: []string{"spgen.yaml:5", `unknown field "Kind"`, "case-sensitive"}},
		{name: "nested key twice", setup: editSpec("  version: v1alpha1", "  version: v1alpha1\n  version: v1beta1"), code: cli.ExitUsage, want: []string{"spgen.yaml:7", `key "version" is given twice (first on line 6)`}},
		{name: "only a document marker", setup: func(t *testing.T, e hostileEnv) { write(t, e.dir, "spgen.yaml", "---\n") }, code: cli.ExitUsage, want: []string{"spgen.yaml", "module must not be empty"}},
		{name: "two empty documents", setup: func(t *testing.T, e hostileEnv) {
			write(t, e.dir, "spgen.yaml", readFile(t, filepath.Join(e.dir, "spgen.yaml"))+"---\n---\n")
		}, code: cli.ExitUsage, want: []string{"spgen.yaml:", "second YAML document"}},
		{name: "spgen.yaml a named pipe", setup: replaceFile("spgen.yaml", fifo), code: cli.ExitUsage, want: []string{"spgen.yaml", "not a regular file"}},
		{name: "spgen.yaml a socket", setup: replaceFile("spgen.yaml", socket), code: cli.ExitUsage, want: []string{"spgen.yaml", "not a regular file"}},
		// Special and huge files.
		{name: "go.mod a named pipe", setup: replaceFile("go.mod", fifo), code: cli.ExitUsage, want: []string{`"go.mod"`, "named pipe"}},
		{name: "go.sum linked to the zero device", setup: replaceFile("go.sum", linkTo("/dev/zero")), args: check, code: cli.ExitUsage, want: []string{`"go.sum"`, "character device"}},
		{name: "boilerplate a named pipe", setup: replaceFile("hack/boilerplate.go.txt", fifo), code: cli.ExitUsage, want: []string{"hack/boilerplate.go.txt", "named pipe"}},
		{name: "directory in place of the role", setup: replaceFile("config/rbac/role.yaml", func(p string) error { return os.Mkdir(p, 0o755) }),
			code: cli.ExitUsage, want: []string{"config/rbac/role.yaml", "a directory, not a regular file"}},
		{name: "socket in place of the wiring", setup: replaceFile("internal/wiring/zz_generated.wiring.go", socket), code: cli.ExitUsage,
			want: []string{"internal/wiring/zz_generated.wiring.go", "socket"}},
		{name: "lock file a named pipe", setup: replaceFile(".spgen/lock.yaml", fifo), code: cli.ExitUsage, want: []string{".spgen/lock.yaml", "not a regular file"}},
		{name: "named pipe where the go command looks away", setup: replaceFile("testdata/x.go", func(p string) error {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			return fifo(p)
		}), args: dryRun, code: 0, want: []string{"0 file(s) would change"}},
		{name: "dangling link as a source", setup: replaceFile("internal/controller/gone.go", linkTo("nowhere.go")), code: cli.ExitUsage,
			want: []string{"internal/controller/gone.go", "cannot be read"}},
		{name: "generated manifest of 17 MiB", setup: replaceFile("api/crds/manifests/velero.services.open-control-plane.io_veleroes.yaml", sparse(17<<20)),
			code: cli.ExitUsage, want: []string{"_veleroes.yaml", "17825792 bytes"}},
		// Journals.
		{name: "plan a named pipe", setup: replaceFile(".spgen/txn/plan.json", func(p string) error {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			return fifo(p)
		}), code: cli.ExitUsage, want: []string{"plan.json", "not a regular file"}},
		{name: "journal writing a bad lock", setup: steps(journal(`{"write":["README.md"],"remove":[],"state":[".spgen/lock.yaml"]}`, map[string]string{"README.md": "planted\n"}),
			func(t *testing.T, e hostileEnv) { write(t, e.dir, ".spgen/txn/state/lock.yaml", "files: [\n") }),
			code: cli.ExitUsage, want: []string{".spgen/lock.yaml", "were not applied"}},
		{name: "journal removing from .git", setup: journal(`{"write":[],"remove":[".git/config"]}`, nil), code: cli.ExitUsage, want: []string{`".git/config"`, "nothing of it was applied"}},
		{name: "journal through a link in the project", setup: steps(journal(`{"write":["linked/x.go"],"remove":[]}`, map[string]string{"linked/x.go": "package x\n"}), func(t *testing.T, e hostileEnv) {
			if err := os.Symlink(e.outside, filepath.Join(e.dir, "linked")); err != nil {
				t.Fatal(err)
			}
		}), code: cli.ExitUsage, want: []string{"symbolic link linked", "nothing of it was applied"}},
		{name: "uncommitted journal and --check", setup: func(t *testing.T, e hostileEnv) { write(t, e.dir, ".spgen/txn/files/README.md", "half\n") },
			args: check, code: 0, want: []string{"up to date"}},
		{name: "committed journal applied by generate", setup: journal(`{"write":["NOTES.md"],"remove":[]}`, map[string]string{"NOTES.md": "from the interrupted run\n"}),
			code: 0, writes: true, want: []string{"completed an interrupted earlier spgen run"}, check: func(t *testing.T, e hostileEnv) {
				if readFile(t, filepath.Join(e.dir, "NOTES.md")) != "from the interrupted run\n" || exists(t, filepath.Join(e.dir, ".spgen/txn")) {
					t.Error("the interrupted run was not completed")
				}
			}},
		// Read-only commands.
		{name: "check leaves a stale stage alone", setup: func(t *testing.T, e hostileEnv) { write(t, e.dir, ".spgen/stage-999999-1/go.mod", "module x\n") },
			args: check, code: 0, want: []string{"up to date"}},
		{name: "add-api dry run with a version too long", args: []string{"add-api", "--kind", "Schedule", "--version", "v1alpha" + strings.Repeat("1", 57), "--dry-run"},
			code: cli.ExitUsage, want: []string{"--version", "DNS-1035 label of at most 63"}},
		{name: "add-api dry run with a scaffold name", args: []string{"add-api", "--kind", "Common", "--dry-run"}, code: cli.ExitUsage, want: []string{`--kind "Common"`}},
		{name: "upgrade dry run when current", args: []string{"upgrade", "--dry-run"}, code: 0, want: []string{"nothing to do"}},
		{name: "dry run with a syntax error", setup: field("Replicas int32 `json:\"replicas\"` {"), args: dryRun, code: cli.ExitError, want: []string{typesFile + ":31"}},
		{name: "check with a malformed marker", setup: addMarker("// +spgen:rbac:cluster=mcp,verbs"), args: check, code: cli.ExitError, want: []string{markerAt, "malformed marker"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runHostile(t, c) })
	}
	t.Logf("%d sweep cases", len(cases))
}
