package merge

import (
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// lineEdits are the edits that turn a into b, line by line. Lines that
// occur exactly once in each text, in the same order, anchor the
// comparison, as patience diff does; between anchors udiff compares the
// texts. udiff alone gives up on finding the smallest edit when the texts
// differ a lot and reports one edit over the whole changed region, which
// would swallow unchanged lines between the changes (a user's edit there
// would conflict with all of it).
func lineEdits(a, b string) []udiff.Edit {
	al, bl := splitLines(a), splitLines(b)
	aOff, bOff := lineOffsets(al), lineOffsets(bl)
	var edits []udiff.Edit
	ai, bi := 0, 0
	for _, an := range append(anchors(al, bl), [2]int{len(al), len(bl)}) {
		for _, e := range udiff.Lines(a[aOff[ai]:aOff[an[0]]], b[bOff[bi]:bOff[an[1]]]) {
			e.Start += aOff[ai]
			e.End += aOff[ai]
			edits = append(edits, e)
		}
		ai, bi = an[0]+1, an[1]+1
	}
	return edits
}

// splitLines splits s after every newline; the last line may lack one.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineOffsets are the byte offsets where each line starts, and the length
// of the text last.
func lineOffsets(lines []string) []int {
	off := make([]int, len(lines)+1)
	for i, l := range lines {
		off[i+1] = off[i] + len(l)
	}
	return off
}

// anchors are the pairs of line indexes (in a, in b) of the longest run, in
// order in both texts, of lines that occur exactly once in each.
func anchors(a, b []string) [][2]int {
	count := map[string][2]int{}
	where := map[string]int{}
	for _, l := range a {
		c := count[l]
		c[0]++
		count[l] = c
	}
	for j, l := range b {
		c := count[l]
		c[1]++
		count[l] = c
		where[l] = j
	}
	var pairs [][2]int
	for i, l := range a {
		if c := count[l]; c[0] == 1 && c[1] == 1 {
			pairs = append(pairs, [2]int{i, where[l]})
		}
	}
	return increasing(pairs)
}

// increasing is the longest subsequence of pairs (sorted by their first
// index) whose second indexes increase too (patience sorting).
func increasing(pairs [][2]int) [][2]int {
	var tails []int // tails[k]: index in pairs ending a run of length k+1
	prev := make([]int, len(pairs))
	for i, p := range pairs {
		k := sort.Search(len(tails), func(k int) bool { return pairs[tails[k]][1] >= p[1] })
		prev[i] = -1
		if k > 0 {
			prev[i] = tails[k-1]
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	if len(tails) == 0 {
		return nil
	}
	out := make([][2]int, len(tails))
	for i, k := len(tails)-1, tails[len(tails)-1]; i >= 0; i, k = i-1, prev[k] {
		out[i] = pairs[k]
	}
	return out
}
