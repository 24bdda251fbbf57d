package merge

import (
	"strings"
	"testing"
)

const goBase = `package p

import (
	"fmt"

	"example.com/mod/api"
)

func A() string { return fmt.Sprint(api.X) }

func B() int { return 1 }
`

// TestGoImportsMergeAsSets: imports added on both sides next to each other
// are not a conflict; the file comes out gofmt-clean.
func TestGoImportsMergeAsSets(t *testing.T) {
	ours := strings.Replace(goBase, "\"fmt\"\n", "\"fmt\"\n\t\"strings\"\n", 1)
	ours = strings.Replace(ours, "func B() int { return 1 }", "func B() int { return len(strings.Fields(\"a b\")) }", 1)
	theirs := strings.Replace(goBase, "\"fmt\"\n", "\"errors\"\n\t\"fmt\"\n\n\tmeta \"k8s.io/apimachinery/pkg/apis/meta/v1\"\n", 1)
	theirs = strings.Replace(theirs, "func A() string", "var errX = errors.New(\"x\")\n\nvar _ meta.Time\n\nfunc A() string", 1)
	got := Go(goBase, ours, theirs, "example.com/mod", labels)
	if got.Conflicts != 0 {
		t.Fatalf("%d conflicts:\n%s", got.Conflicts, got.Text)
	}
	want := `import (
	"errors"
	"fmt"
	"strings"

	meta "k8s.io/apimachinery/pkg/apis/meta/v1"

	"example.com/mod/api"
)
`
	if !strings.Contains(got.Text, want) {
		t.Errorf("imports not merged as a set:\n%s", got.Text)
	}
	for _, line := range []string{"var errX = errors.New(\"x\")", "return len(strings.Fields(\"a b\"))"} {
		if !strings.Contains(got.Text, line) {
			t.Errorf("merged file lacks %q:\n%s", line, got.Text)
		}
	}
}

// TestGoImportRemovals: an import one side removed stays removed while the
// other side adds one.
func TestGoImportRemovals(t *testing.T) {
	ours := strings.Replace(goBase, "\t\"example.com/mod/api\"\n", "", 1)
	ours = strings.Replace(ours, "fmt.Sprint(api.X)", "fmt.Sprint(1)", 1)
	ours = strings.Replace(ours, "\n\n)", "\n)", 1)
	theirs := strings.Replace(goBase, "\"fmt\"\n", "\"fmt\"\n\t\"os\"\n", 1)
	theirs = strings.Replace(theirs, "func B() int { return 1 }", "func B() int { return os.Getpid() }", 1)
	got := Go(goBase, ours, theirs, "example.com/mod", labels)
	if got.Conflicts != 0 || strings.Contains(got.Text, "example.com/mod/api") || !strings.Contains(got.Text, "\t\"os\"\n") {
		t.Fatalf("%d conflicts:\n%s", got.Conflicts, got.Text)
	}
}

// TestGoConflictOutsideImports keeps the merged imports and marks the
// conflict in the code.
func TestGoConflictOutsideImports(t *testing.T) {
	ours := strings.Replace(goBase, "return 1", "return 2", 1)
	ours = strings.Replace(ours, "\"fmt\"\n", "\"fmt\"\n\t\"io\"\n", 1)
	theirs := strings.Replace(goBase, "return 1", "return 3", 1)
	got := Go(goBase, ours, theirs, "example.com/mod", labels)
	if got.Conflicts != 1 || !strings.Contains(got.Text, "<<<<<<< yours") || !strings.Contains(got.Text, "\t\"io\"\n") {
		t.Fatalf("%d conflicts:\n%s", got.Conflicts, got.Text)
	}
}

// TestGoBrokenCode: a file whose code does not compile is merged, and
// left as the user wrote it where the template changed nothing.
func TestGoBrokenCode(t *testing.T) {
	broken := goBase + "func {\n"
	got := Go(goBase, broken, goBase, "example.com/mod", labels)
	if got.Text != broken || got.Conflicts != 0 {
		t.Fatalf("got %q", got.Text)
	}
	brokenImports := "package p\n\nimport (\n\t\"fmt\"\n"
	if got := Go(goBase, brokenImports, goBase, "example.com/mod", labels); got.Text != brokenImports {
		t.Fatalf("unparsable imports not merged as text: %q", got.Text)
	}
}

func TestRetained(t *testing.T) {
	base := "a\nb\nc\nd\n"
	for _, c := range []struct {
		ours string
		want float64
	}{
		{base, 1},
		{"a\nb\nX\nY\n", 0.5},
		{"w\nx\ny\nz\n", 0},
		{"a\nnew\nb\nc\nd\n", 1},
	} {
		if got := Retained(base, c.ours); got != c.want {
			t.Errorf("Retained(%q) = %v, want %v", c.ours, got, c.want)
		}
	}
}

// TestGoCommentsInImportsMergeAsText: a comment of its own among the
// imports would be lost by a set merge, so the file is merged as text.
func TestGoCommentsInImportsMergeAsText(t *testing.T) {
	ours := strings.Replace(goBase, "\"fmt\"\n", "\"fmt\"\n\t// the API of this module\n", 1)
	theirs := strings.Replace(goBase, "return 1", "return 2", 1)
	got := Go(goBase, ours, theirs, "example.com/mod", labels)
	want := Three(goBase, ours, theirs, labels)
	if got != want || !strings.Contains(got.Text, "// the API of this module") {
		t.Fatalf("got:\n%s\nwant:\n%s", got.Text, want.Text)
	}
}
