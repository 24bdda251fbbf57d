package initialize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/stack"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/testutil/envtestbin"
)

// TestQualityTable: every test the README's quality criteria table names
// exists in the golden project, so the table cannot promise a proof that is
// not there.
func TestQualityTable(t *testing.T) {
	for _, name := range testutil.GoldenNames(t) {
		t.Run(name, func(t *testing.T) {
			files := readGolden(t, name)
			readme := string(files["README.md"])
			start := strings.Index(readme, "## Quality criteria")
			if start < 0 {
				t.Fatal("README.md has no quality criteria")
			}
			table := readme[start:]
			if end := strings.Index(table[3:], "\n## "); end >= 0 {
				table = table[:end+3]
			}
			names := regexp.MustCompile("`(Test[A-Za-z0-9]+)`").FindAllStringSubmatch(table, -1)
			if rows := strings.Count(table, "\n| ") - 1; rows != 8 || len(names) == 0 {
				t.Fatalf("the table has %d criteria and names %d tests, want 8 criteria:\n%s", rows, len(names), table)
			}
			for _, n := range names {
				if !defined(files, "func "+n[1]+"(") {
					t.Errorf("the quality criteria name %s, which no test file of %s defines", n[1], name)
				}
			}
		})
	}
}

// TestPinnedEverywhere: no golden file asks for @latest, every action a
// workflow uses is pinned by commit with its version in a comment, and
// Renovate's custom manager finds the tool versions the workflows pin.
func TestPinnedEverywhere(t *testing.T) {
	uses := regexp.MustCompile(`uses: ([^\s@]+)@(\S+)(.*)`)
	pinned := regexp.MustCompile(`^[0-9a-f]{40}$`)
	for _, name := range testutil.GoldenNames(t) {
		t.Run(name, func(t *testing.T) {
			files := readGolden(t, name)
			for path, content := range files {
				if strings.Contains(string(content), "@latest") {
					t.Errorf("%s asks for @latest", path)
				}
				if !strings.HasPrefix(path, ".github/workflows/") {
					continue
				}
				for _, m := range uses.FindAllStringSubmatch(string(content), -1) {
					if !pinned.MatchString(m[2]) || !strings.HasPrefix(strings.TrimSpace(m[3]), "# v") {
						t.Errorf("%s: %s@%s%s is not pinned by commit with its version in a comment", path, m[1], m[2], m[3])
					}
				}
			}
			checkRenovate(t, files)
		})
	}
}

func checkRenovate(t *testing.T, files map[string][]byte) {
	t.Helper()
	var config struct {
		CustomManagers []struct {
			MatchStrings []string `json:"matchStrings"`
		} `json:"customManagers"`
	}
	if err := json.Unmarshal(files["renovate.json"], &config); err != nil {
		t.Fatalf("renovate.json: %v", err)
	}
	if len(config.CustomManagers) != 1 || len(config.CustomManagers[0].MatchStrings) != 1 {
		t.Fatalf("renovate.json: want one custom manager with one pattern, got %+v", config)
	}
	pattern := regexp.MustCompile(config.CustomManagers[0].MatchStrings[0])
	for path, want := range map[string][2]string{
		".github/workflows/release.yaml": {"open-component-model/ocm", "v"},
		".github/workflows/ci.yaml":      {"github.com/golangci/golangci-lint/v2", stack.GolangciLint},
		"Taskfile.yaml":                  {"github.com/golangci/golangci-lint/v2", stack.GolangciLint},
	} {
		m := pattern.FindStringSubmatch(string(files[path]))
		if m == nil || m[pattern.SubexpIndex("depName")] != want[0] || !strings.HasPrefix(m[pattern.SubexpIndex("currentValue")], want[1]) {
			t.Errorf("Renovate's custom manager does not find %s %s in %s: %q", want[0], want[1], path, m)
		}
	}
}

func readGolden(t *testing.T, name string) map[string][]byte {
	t.Helper()
	files, err := testutil.ReadTree(filepath.Join(testutil.GoldenRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// defined reports whether a Go test file holds decl.
func defined(files map[string][]byte, decl string) bool {
	for path, content := range files {
		if strings.HasSuffix(path, "_test.go") && strings.Contains(string(content), "\n"+decl) {
			return true
		}
	}
	return false
}

// TestServiceProviderStrict: the local openMCP deploys the provider with
// config/deploy/serviceprovider.yaml, so a field the ServiceProvider API does
// not have fails the local end-to-end tests, naming the file and the field.
func TestServiceProviderStrict(t *testing.T) {
	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "default")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(testutil.GoldenRoot, "default"))); err != nil {
		t.Fatal(err)
	}
	const manifest = "config/deploy/serviceprovider.yaml"
	path := filepath.Join(dir, manifest)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte("imagePullSecrets:"), []byte("imagePullSecret:"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "./test/local/")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the local tests passed with a misspelt field in %s:\n%s", manifest, out)
	}
	if !strings.Contains(string(out), manifest) || !strings.Contains(string(out), `unknown field "imagePullSecret"`) {
		t.Errorf("the local tests do not name the file and the field:\n%s", out)
	}
}
