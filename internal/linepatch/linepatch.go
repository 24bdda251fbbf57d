// Package linepatch records how one text becomes another as the line edits
// of `diff -n` (the RCS format): "dL N" deletes N lines from line L of the
// original, "aL N" appends the N lines that follow after line L. Only the
// lines that are new are stored, so a patch is about as long as what
// changed; GNU `diff -n` writes it.
package linepatch

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Apply applies a patch (as `diff -n` writes it) to from. A patch that does not fit
// from (a line out of range, commands out of order) is an error, never a
// guess.
func Apply(from, patch string) (string, error) {
	lines := strings.SplitAfter(from, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	cmds := strings.SplitAfter(patch, "\n")
	if cmds[len(cmds)-1] == "" {
		cmds = cmds[:len(cmds)-1]
	}
	var out strings.Builder
	next := 0 // lines of from copied so far
	for i := 0; i < len(cmds); i++ {
		op, at, n, err := parse(cmds[i])
		if err != nil {
			return "", fmt.Errorf("patch line %d: %w", i+1, err)
		}
		switch op {
		case 'd':
			if at-1 < next || at-1+n > len(lines) {
				return "", fmt.Errorf("patch line %d: deletes lines %d-%d of %d, from line %d on", i+1, at, at+n-1, len(lines), next+1)
			}
			out.WriteString(strings.Join(lines[next:at-1], ""))
			next = at - 1 + n
		case 'a':
			if at < next || at > len(lines) || i+n >= len(cmds) {
				return "", fmt.Errorf("patch line %d: appends after line %d of %d, from line %d on", i+1, at, len(lines), next+1)
			}
			out.WriteString(strings.Join(lines[next:at], ""))
			out.WriteString(strings.Join(cmds[i+1:i+1+n], ""))
			next = at
			i += n
		}
	}
	out.WriteString(strings.Join(lines[next:], ""))
	return out.String(), nil
}

func parse(cmd string) (op byte, at, n int, err error) {
	cmd = strings.TrimSuffix(cmd, "\n")
	pos, count, ok := strings.Cut(cmd[min(1, len(cmd)):], " ")
	if len(cmd) < 4 || (cmd[0] != 'a' && cmd[0] != 'd') || !ok {
		return 0, 0, 0, fmt.Errorf("%q is not an edit (aL N or dL N)", cmd)
	}
	at, err1 := strconv.Atoi(pos)
	n, err2 := strconv.Atoi(count)
	if err1 != nil || err2 != nil || at < 0 || n < 1 {
		return 0, 0, 0, fmt.Errorf("%q is not an edit (aL N or dL N)", cmd)
	}
	return cmd[0], at, n, nil
}

// A bundle holds the patches of many files: a line "=== <name>" starts
// the patch of one file.
const fileMark = "=== "

// WriteBundle joins patches by file name, sorted, after a comment header.
func WriteBundle(header string, patches map[string]string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString("# " + line + "\n")
	}
	for _, name := range slices.Sorted(maps.Keys(patches)) {
		b.WriteString(fileMark + name + "\n" + patches[name])
	}
	return b.String()
}

// ReadBundle splits a bundle into its patches by file name. The lines a
// patch appends are skipped by count, so they may look like anything.
func ReadBundle(bundle string) (map[string]string, error) {
	lines := strings.SplitAfter(bundle, "\n")
	out := map[string]string{}
	name := ""
	for i := 0; i < len(lines) && lines[i] != ""; i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "#") && name == "":
		case strings.HasPrefix(line, fileMark):
			name = strings.TrimSuffix(strings.TrimPrefix(line, fileMark), "\n")
			if _, dup := out[name]; dup || name == "" {
				return nil, fmt.Errorf("bundle line %d: %q is named twice or empty", i+1, name)
			}
			out[name] = ""
		case name == "":
			return nil, fmt.Errorf("bundle line %d: an edit before the first %q line", i+1, fileMark)
		default:
			op, _, n, err := parse(line)
			if err != nil {
				return nil, fmt.Errorf("bundle line %d: %w", i+1, err)
			}
			end := i + 1
			if op == 'a' {
				end += n
			}
			if end > len(lines) {
				return nil, fmt.Errorf("bundle line %d: the bundle ends inside the edit", i+1)
			}
			out[name] += strings.Join(lines[i:end], "")
			i = end - 1
		}
	}
	return out, nil
}
