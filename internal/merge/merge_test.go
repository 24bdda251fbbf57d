package merge

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var labels = Labels{Ours: "yours", Base: "base", Theirs: "new"}

func TestThreeCases(t *testing.T) {
	base := "a\nb\nc\nd\ne\n"
	cases := []struct {
		name, ours, theirs, want string
		conflicts                int
	}{
		{"only user changed", "a\nB\nc\nd\ne\n", base, "a\nB\nc\nd\ne\n", 0},
		{"only template changed", base, "a\nb\nc\nD\ne\n", "a\nb\nc\nD\ne\n", 0},
		{"both, apart", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "A\nb\nc\nd\nE\n", 0},
		{"both, same change", "a\nX\nc\nd\ne\n", "a\nX\nc\nd\ne\n", "a\nX\nc\nd\ne\n", 0},
		{"user inserts, template changes elsewhere", "a\nb\nmine\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "a\nb\nmine\nc\nd\nE\n", 0},
		{"same line", "a\nb\nmine\nd\ne\n", "a\nb\ntheirs\nd\ne\n",
			"a\nb\n<<<<<<< yours\nmine\n||||||| base\nc\n=======\ntheirs\n>>>>>>> new\nd\ne\n", 1},
		{"user deletes, template changes elsewhere", "a\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "a\nc\nd\nE\n", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Three(base, c.ours, c.theirs, labels)
			if got.Text != c.want || got.Conflicts != c.conflicts {
				t.Errorf("got %d conflicts:\n%s\nwant %d:\n%s", got.Conflicts, got.Text, c.conflicts, c.want)
			}
		})
	}
}

// mutate applies random insertions, deletions and changes to lines; every
// line it writes is unique and tagged, so its presence can be checked.
func mutate(r *rand.Rand, lines []string, tag string, n int) (out []string, added []string) {
	out = append([]string(nil), lines...)
	for i := 0; i < n; i++ {
		fresh := fmt.Sprintf("%s-%d-%d", tag, i, r.IntN(1_000_000))
		switch op := r.IntN(3); {
		case op == 0 || len(out) == 0: // insert
			at := r.IntN(len(out) + 1)
			out = append(out[:at], append([]string{fresh}, out[at:]...)...)
			added = append(added, fresh)
		case op == 1: // delete
			at := r.IntN(len(out))
			out = append(out[:at], out[at+1:]...)
		default: // change
			at := r.IntN(len(out))
			out[at] = fresh
			added = append(added, fresh)
		}
	}
	// Later operations may have removed earlier additions.
	present := map[string]bool{}
	for _, l := range out {
		present[l] = true
	}
	kept := added[:0]
	for _, a := range added {
		if present[a] {
			kept = append(kept, a)
		}
	}
	return out, kept
}

func text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestNoUserLineLost: for random edits by both sides, every line the user
// added or changed is in the result, inside or outside conflicts; without
// conflicts, every line the template added is there too and no marker is.
func TestNoUserLineLost(t *testing.T) {
	const cases = 2000
	r := rand.New(rand.NewPCG(1, 2))
	conflicted := 0
	for c := 0; c < cases; c++ {
		var base []string
		for i := 0; i < 5+r.IntN(60); i++ {
			base = append(base, fmt.Sprintf("base-%d", i))
		}
		ours, userLines := mutate(r, base, "user", 1+r.IntN(8))
		theirs, templateLines := mutate(r, base, "tmpl", r.IntN(8))
		res := Three(text(base), text(ours), text(theirs), labels)
		got := map[string]bool{}
		for _, l := range strings.Split(res.Text, "\n") {
			got[l] = true
		}
		for _, l := range userLines {
			if !got[l] {
				t.Fatalf("case %d: user line %q lost\nbase:\n%s\nours:\n%s\ntheirs:\n%s\nresult:\n%s", c, l, text(base), text(ours), text(theirs), res.Text)
			}
		}
		if res.Conflicts == 0 {
			for _, l := range templateLines {
				if !got[l] {
					t.Fatalf("case %d: template line %q lost without a conflict", c, l)
				}
			}
			if strings.Contains(res.Text, "<<<<<<<") {
				t.Fatalf("case %d: markers without a reported conflict", c)
			}
		} else {
			conflicted++
		}
	}
	t.Logf("%d random cases, %d with conflicts", cases, conflicted)
}

// TestLargeChangeAroundUserCode: the template rewrites what comes before
// and after an unchanged function, and the user added code next to that
// function. The unchanged lines in between keep the two changes apart, as
// they would in a small diff, so the user's code merges without a
// conflict.
func TestLargeChangeAroundUserCode(t *testing.T) {
	var base, theirs strings.Builder
	for i := range 60 {
		fmt.Fprintf(&base, "func old%d() int { return %d }\n\n", i, i)
		fmt.Fprintf(&theirs, "func renamed%d() string { return \"%d\" }\n\n", i, i*7)
	}
	kept := "// namespace is unchanged by the template.\nfunc namespace() string {\n\treturn \"ns\"\n}\n\n"
	base.WriteString(kept)
	theirs.WriteString(kept)
	for i := range 60 {
		fmt.Fprintf(&base, "func tail%d() {}\n", i)
		fmt.Fprintf(&theirs, "func newTail%d() error { return nil }\n", i)
	}
	ours := strings.Replace(base.String(), "func namespace()", "// mine is the user's.\nfunc mine() {}\n\nfunc namespace()", 1)
	m := Three(base.String(), ours, theirs.String(), labels)
	if m.Conflicts != 0 {
		t.Fatalf("%d conflict(s):\n%s", m.Conflicts, m.Text)
	}
	want := strings.Replace(theirs.String(), "func namespace()", "// mine is the user's.\nfunc mine() {}\n\nfunc namespace()", 1)
	if m.Text != want {
		t.Errorf("merged text is not the template's with the user's function:\n%s", m.Text)
	}
}
