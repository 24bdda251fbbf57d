// Package merge combines a user's edits and a template's changes to the same
// base text, line by line (a three-way merge). Where both sides changed the
// same or adjacent lines differently, the result carries diff3-style conflict
// markers with the base section, so no line of either side is lost.
package merge

import (
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// Labels name the three sides in conflict markers.
type Labels struct {
	Ours, Base, Theirs string
}

// Result is a merged text.
type Result struct {
	Text      string
	Conflicts int
}

type edit struct {
	udiff.Edit
	side int // 0 ours, 1 theirs
}

// Three merges ours and theirs, both derived from base.
func Three(base, ours, theirs string, l Labels) Result {
	if ours == theirs {
		return Result{Text: ours}
	}
	if ours == base {
		return Result{Text: theirs}
	}
	if theirs == base {
		return Result{Text: ours}
	}
	var all []edit
	for _, e := range lineEdits(base, ours) {
		all = append(all, edit{e, 0})
	}
	for _, e := range lineEdits(base, theirs) {
		all = append(all, edit{e, 1})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Start != all[j].Start {
			return all[i].Start < all[j].Start
		}
		return all[i].End < all[j].End
	})
	var out strings.Builder
	conflicts := 0
	pos := 0
	for i := 0; i < len(all); {
		// A hunk is a run of edits that overlap or touch: changes to
		// adjacent lines by both sides are not merged silently.
		start, end := all[i].Start, all[i].End
		j := i + 1
		for j < len(all) && all[j].Start <= end {
			end = max(end, all[j].End)
			j++
		}
		hunk := all[i:j]
		out.WriteString(base[pos:start])
		o, oc := apply(base, start, end, hunk, 0)
		t, tc := apply(base, start, end, hunk, 1)
		switch {
		case !tc:
			out.WriteString(o)
		case !oc || o == t:
			out.WriteString(t)
		default:
			conflicts++
			writeConflict(&out, o, base[start:end], t, l)
		}
		pos = end
		i = j
	}
	out.WriteString(base[pos:])
	return Result{Text: out.String(), Conflicts: conflicts}
}

// apply rewrites base[start:end] with the edits of one side and reports
// whether that side changed anything there.
func apply(base string, start, end int, hunk []edit, side int) (string, bool) {
	var b strings.Builder
	pos := start
	changed := false
	for _, e := range hunk {
		if e.side != side {
			continue
		}
		changed = true
		b.WriteString(base[pos:e.Start])
		b.WriteString(e.New)
		pos = e.End
	}
	b.WriteString(base[pos:end])
	return b.String(), changed
}

func writeConflict(out *strings.Builder, ours, base, theirs string, l Labels) {
	section := func(s string) {
		out.WriteString(s)
		if s != "" && !strings.HasSuffix(s, "\n") {
			out.WriteString("\n")
		}
	}
	out.WriteString("<<<<<<< " + l.Ours + "\n")
	section(ours)
	out.WriteString("||||||| " + l.Base + "\n")
	section(base)
	out.WriteString("=======\n")
	section(theirs)
	out.WriteString(">>>>>>> " + l.Theirs + "\n")
}
