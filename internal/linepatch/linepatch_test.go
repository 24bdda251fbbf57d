package linepatch

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gnuDiff returns `diff -n` from one text to another.
func gnuDiff(t *testing.T, from, to string) string {
	t.Helper()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte(from), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(to), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("diff", "-n", a, b).Output()
	if exit, ok := err.(*exec.ExitError); err != nil && (!ok || exit.ExitCode() != 1) {
		t.Fatalf("diff -n: %v", err)
	}
	return string(out)
}

// TestRoundTrip: what GNU diff -n writes applies and gives the target,
// for random edits of random texts.
func TestRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	words := []string{"a\n", "b\n", "c\n", "}\n", "\n", "func x() {\n"}
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(words[rnd.IntN(len(words))])
		}
		return b.String()
	}
	for i := range 300 {
		from, to := text(rnd.IntN(30)), text(rnd.IntN(30))
		p := gnuDiff(t, from, to)
		got, err := Apply(from, p)
		if err != nil || got != to {
			t.Fatalf("case %d: %v\nfrom %q\nto   %q\npatch %q\ngot  %q", i, err, from, to, p, got)
		}
	}
}

// TestBadPatch: a patch that does not fit is an error.
func TestBadPatch(t *testing.T) {
	for _, p := range []string{"d5 1\n", "a9 1\nx\n", "a1 2\nonly one\n", "x1 1\n", "d2 1\nd1 1\n", "d1 0\n"} {
		if got, err := Apply("one\ntwo\n", p); err == nil {
			t.Errorf("%q applied: %q", p, got)
		}
	}
}

// TestBundle: patches survive a bundle, including appended lines that look
// like a file mark or an edit.
func TestBundle(t *testing.T) {
	from := "x\n"
	to := "=== tricky\nd1 1\n# not a comment\n"
	p := gnuDiff(t, from, to)
	in := map[string]string{"b.tmpl": p, "a.tmpl": "d1 1\n"}
	got, err := ReadBundle(WriteBundle("two patches\nfor a test", in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a.tmpl"] != in["a.tmpl"] || got["b.tmpl"] != p {
		t.Fatalf("bundle round trip: %q", got)
	}
	if out, err := Apply(from, got["b.tmpl"]); err != nil || out != to {
		t.Fatalf("applied %q, %v", out, err)
	}
}
