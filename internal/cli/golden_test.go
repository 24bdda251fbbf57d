package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-control-plane/spgen/internal/cli"
	"github.com/open-control-plane/spgen/internal/testutil"
)

// The golden cases: inputs under testdata/golden/<case>, expected projects
// under golden/<case> (see testdata/golden/README.md).
const casesRoot = "../../testdata/golden"

// TestGolden runs the steps of every case and compares what they print
// with the case's output and the project they write, whole, with its
// golden copy. Run it with -update to accept a change, then review the
// diff like any other change.
func TestGolden(t *testing.T) {
	cases, err := os.ReadDir(casesRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			caseDir := filepath.Join(casesRoot, c.Name())
			dir := filepath.Join(t.TempDir(), "sp-velero")
			out := runSteps(t, caseDir, dir)
			got, err := testutil.ReadTree(dir)
			if err != nil {
				t.Fatal(err)
			}
			goldenDir := filepath.Join(testutil.GoldenRoot, c.Name())
			if *testutil.Update {
				writeGolden(t, goldenDir, got)
				if err := os.WriteFile(filepath.Join(caseDir, "output"), out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := testutil.ReadTree(goldenDir)
			if err != nil {
				t.Fatalf("reading golden tree (run with -update to create it): %v", err)
			}
			if diff := testutil.DiffTrees(want, got); diff != "" {
				t.Errorf("generated tree differs from %s (run with -update and review the diff):\n%s", goldenDir, diff)
			}
			wantOut, err := os.ReadFile(filepath.Join(caseDir, "output"))
			if err != nil {
				t.Fatalf("reading expected output (run with -update to create it): %v", err)
			}
			if !bytes.Equal(out, wantOut) {
				t.Errorf("output differs from %s/output (run with -update and review the diff)\nwant:\n%s\ngot:\n%s", caseDir, wantOut, out)
			}
		})
	}
}

// runSteps runs the commands of a case's steps file in dir and returns
// their standard output, with dir written as $DIR.
func runSteps(t *testing.T, caseDir, dir string) []byte {
	t.Helper()
	steps, err := os.ReadFile(filepath.Join(caseDir, "steps"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(steps)), "\n") {
		args := append(strings.Fields(line), "--dir", dir)
		var stdout, stderr bytes.Buffer
		if code := cli.Execute(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("spgen %s: exit %d\n%s", line, code, stderr.String())
		}
		out.WriteString("$ spgen " + line + "\n")
		out.WriteString(strings.ReplaceAll(stdout.String(), dir, "$DIR"))
	}
	return out.Bytes()
}

// writeGolden replaces the golden project at dir with files.
func writeGolden(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := testutil.WriteTree(dir, files); err != nil {
		t.Fatal(err)
	}
}
