package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/cli"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestBadInput checks every rejected input: exit code 2, a one-line message
// naming the flag, the value and the rule, and nothing on disk.
func TestBadInput(t *testing.T) {
	valid := map[string]string{"--module": "example.com/acme/sp-velero", "--kind": "Velero", "--group": "velero"}
	cases := []struct {
		name     string
		override map[string]string
		extra    []string
		setup    func(t *testing.T, dir string)
		want     []string
	}{
		{name: "kind lower case", override: map[string]string{"--kind": "velero"}, want: []string{`--kind "velero"`, "upper-case"}},
		{name: "kind with template syntax", override: map[string]string{"--kind": "{{.Evil}}"}, want: []string{"--kind", "ASCII letters and digits"}},
		{name: "kind with path separator", override: map[string]string{"--kind": "Ve/lero"}, want: []string{"--kind", "ASCII letters and digits"}},
		{name: "kind colliding with ProviderConfig", override: map[string]string{"--kind": "ProviderConfig"}, want: []string{`--kind "ProviderConfig"`, "collides"}},
		{name: "kind ending in List", override: map[string]string{"--kind": "VeleroList"}, want: []string{"--kind", "collides"}},
		{name: "kind empty", override: map[string]string{"--kind": ""}, want: []string{"--kind", "must not be empty"}},
		{name: "kind keyword", override: map[string]string{"--kind": "Func"}, want: []string{"--kind", "keyword"}},
		// Names that are valid identifiers but collide with what the
		// scaffold writes, or break Kubernetes' limits at run time.
		{name: "kind named like a scaffold file", override: map[string]string{"--kind": "Common"}, want: []string{`--kind "Common"`, "api/v1alpha1/common_types.go", "choose another kind name"}},
		{name: "kind named like the e2e main", override: map[string]string{"--kind": "Main"}, want: []string{`--kind "Main"`, "test/e2e/main_test.go"}},
		{name: "kind ProviderConfig in other case", override: map[string]string{"--kind": "Providerconfig"}, want: []string{`--kind "Providerconfig"`, "only in case"}},
		{name: "kind with the ProviderConfig's plural", override: map[string]string{"--kind": "ProviderConfigs"}, want: []string{"--kind", "providerconfigs"}},
		{name: "kind too long for its namespace", override: map[string]string{"--kind": "Veleroxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}, want: []string{"--kind", "workload namespace", "would be 64 characters, Kubernetes allows 63"}},
		{name: "kind too long for its list kind", override: map[string]string{"--kind": "Veleroxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}, want: []string{"--kind", "list kind", "would be 64 characters"}},
		{name: "kind too long for its plural", override: map[string]string{"--kind": "Veleroxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxy"}, want: []string{"--kind", "resource (plural) name", "would be 64 characters"}},
		{name: "group upper case", override: map[string]string{"--group": "Velero"}, want: []string{`--group "Velero"`, "DNS-1123 label"}},
		{name: "group with dot", override: map[string]string{"--group": "velero.io"}, want: []string{"--group", "DNS-1123 label"}},
		{name: "group with template syntax", override: map[string]string{"--group": "{{.}}"}, want: []string{"--group", "DNS-1123 label"}},
		{name: "module invalid", override: map[string]string{"--module": "Example..com//x"}, want: []string{"--module", "not a valid Go module path"}},
		{name: "module missing", override: map[string]string{"--module": ""}, want: []string{"--module", "must not be empty"}},
		{name: "module last element not a label", override: map[string]string{"--module": "example.com/acme/SP_Velero"}, want: []string{"--module", "DNS-1123 label"}},
		{name: "provider name invalid", extra: []string{"--provider-name", "Velero_1"}, want: []string{"--provider-name", "DNS-1123 label"}},
		{name: "deploy mode unknown", extra: []string{"--deploy", "kustomize"}, want: []string{`--deploy "kustomize"`, "manifests, helm"}},
		{name: "helm with templates before it", extra: []string{"--deploy", "helm", "--templates", "3"}, want: []string{"templates generation 3 predates --deploy helm"}},
		{name: "unknown flag", extra: []string{"--nope"}, want: []string{"unknown flag: --nope"}},
		{name: "positional argument", extra: []string{"extra"}, want: []string{"takes no arguments"}},
		{
			name: "target not empty",
			setup: func(t *testing.T, dir string) {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"--dir", "is not empty", "--force"},
		},
		{
			name: "target is a file",
			setup: func(t *testing.T, dir string) {
				if err := os.WriteFile(dir, []byte("file"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"--dir", "not a directory"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "target")
			if c.setup != nil {
				c.setup(t, dir)
			}
			before := snapshot(t, parent)
			flags := map[string]string{}
			for k, v := range valid {
				flags[k] = v
			}
			for k, v := range c.override {
				flags[k] = v
			}
			args := []string{"init", "--dir", dir}
			for _, k := range []string{"--module", "--kind", "--group"} {
				args = append(args, k+"="+flags[k])
			}
			args = append(args, c.extra...)
			code, stdout, stderr := run(t, args...)
			if code != cli.ExitUsage {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, cli.ExitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			msg := strings.TrimSpace(stderr)
			if strings.Count(msg, "\n") != 0 {
				t.Errorf("message is not one line:\n%s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			if after := snapshot(t, parent); after != before {
				t.Errorf("files changed on bad input:\nbefore: %s\nafter:  %s", before, after)
			}
		})
	}
}

// snapshot lists every path below dir, so a test can assert nothing was written.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var paths []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, strings.TrimPrefix(p, dir))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(paths, " ")
}

func TestVersion(t *testing.T) {
	code, stdout, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "spgen ") || !strings.Contains(stdout, "opencontrolplane-runtime v1.2.0") {
		t.Fatalf("version: code %d, output %q", code, stdout)
	}
}

// TestUsageErrors: what cobra rejects before any command runs exits 2 too.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"completion", "tcsh"}, `unknown command "tcsh"`},
		{[]string{"version", "extra"}, "extra"},
	} {
		code, _, stderr := run(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("spgen %v: exit %d, want 2 and %q in\n%s", c.args, code, c.want, stderr)
		}
	}
}

func TestHelpExplainsFlags(t *testing.T) {
	code, stdout, _ := run(t, "init", "--help")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, flag := range []string{"--module", "--kind", "--group", "--workload-cluster", "--deploy", "--secret-watcher", "--sample", "--provider-name", "--dir", "--dry-run", "--force", "--skip-verify", "Examples:"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("init --help does not mention %s", flag)
		}
	}
}

// TestDryRunWritesNothing prints the diff of every file and leaves the disk untouched.
func TestDryRunWritesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "sp")
	code, stdout, stderr := run(t, "init", "--module", "example.com/acme/sp", "--kind", "Velero", "--group", "velero", "--dir", dir, "--dry-run")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	for _, want := range []string{"+++ b/api/v1alpha1/velero_types.go", "+++ b/api/crds/manifests/velero.services.open-control-plane.io_veleroes.yaml", "+++ b/internal/wiring/zz_generated.wiring.go", "+type Velero struct {"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry-run diff lacks %s", want)
		}
	}
	if !strings.Contains(stderr, "nothing was written") {
		t.Errorf("dry-run summary lacks 'nothing was written': %s", stderr)
	}
	if s := snapshot(t, parent); s != "" {
		t.Errorf("dry-run wrote files: %s", s)
	}
}

// TestMessagesTeach: a call with several required flags missing names them
// all at once, every mistake in how a command was called says where its
// flags are explained, and the help texts say what the scaffold uses.
func TestMessagesTeach(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"init"}, []string{"required flags --module, --kind, --group are missing", "see 'spgen init --help'"}},
		{[]string{"init", "--module", "example.com/acme/sp-velero"}, []string{"required flags --kind, --group are missing"}},
		{[]string{"init", "--module", "example.com/acme/sp-velero", "--kind", "velero", "--group", "velero"}, []string{`--kind "velero"`, "see 'spgen init --help'"}},
		{[]string{"generate", "--check", "--dry-run"}, []string{"cannot be combined", "see 'spgen generate --help'"}},
		{[]string{"gen"}, []string{`unknown command "gen"`, "See 'spgen --help'."}},
	} {
		code, stdout, stderr := run(t, c.args...)
		if code != cli.ExitUsage || stdout != "" {
			t.Errorf("spgen %v: exit %d, stdout %q; want %d and nothing on stdout", c.args, code, stdout, cli.ExitUsage)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("spgen %v: stderr lacks %q:\n%s", c.args, w, stderr)
			}
		}
	}
	for _, command := range []string{"generate", "add-api", "upgrade"} {
		_, help, _ := run(t, command, "--help")
		if strings.Contains(help, `(default ".")`) {
			t.Errorf("%s --help gives --dir two defaults:\n%s", command, help)
		}
	}
	if _, help, _ := run(t, "generate", "--help"); !strings.Contains(help, "+spgen:rbac:cluster=onboarding|mcp|workload") {
		t.Errorf("generate --help does not say where permissions come from:\n%s", help)
	}
}
