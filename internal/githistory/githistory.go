// Package githistory finds earlier contents of a project's files in the git
// repository holding the project, by their hash. spgen records the hash of
// every file it wrote; when it can no longer render what it wrote, the
// commits of the project usually still hold it. Only reading git commands
// run: nothing in the repository changes.
package githistory

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// maxBlob bounds the contents read: far above any file spgen writes.
const maxBlob = 8 << 20

// Find returns the contents with the wanted hashes ("sha256:<hex>", as
// spgen's lock file records them) that any commit, or the index, of the
// repository holding dir has at one of paths (relative to dir). Outside a
// git repository, or without git, it finds nothing and that is no error.
func Find(ctx context.Context, dir string, paths []string, want map[string]bool) (map[string][]byte, error) {
	found := map[string][]byte{}
	if len(paths) == 0 || len(want) == 0 {
		return found, nil
	}
	if _, err := git(ctx, dir, nil, "rev-parse", "--is-inside-work-tree"); err != nil {
		return found, nil
	}
	ids, err := blobs(ctx, dir, paths)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return found, nil
	}
	out, err := git(ctx, dir, strings.NewReader(strings.Join(ids, "\n")+"\n"), "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(bytes.NewReader(out))
	for {
		header, err := r.ReadString('\n')
		if err == io.EOF {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[1] != "blob" {
			continue // "<id> missing" in a shallow or partial clone
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("git cat-file: %q", header)
		}
		if size > maxBlob {
			if _, err := io.CopyN(io.Discard, r, int64(size)+1); err != nil {
				return nil, fmt.Errorf("git cat-file: %w", err)
			}
			continue
		}
		content := make([]byte, size+1) // and the newline after it
		if _, err := io.ReadFull(r, content); err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		content = content[:size]
		if h := fmt.Sprintf("sha256:%x", sha256.Sum256(content)); want[h] {
			found[h] = content
		}
	}
}

// blobs lists the ids of every version of paths in the history of every
// ref and in the index.
func blobs(ctx context.Context, dir string, paths []string) ([]string, error) {
	args := append([]string{"log", "--all", "--root", "--no-renames", "--no-abbrev", "--raw", "--pretty=format:", "--"}, paths...)
	history, err := git(ctx, dir, nil, args...)
	if err != nil {
		return nil, err
	}
	index, err := git(ctx, dir, nil, append([]string{"ls-files", "--stage", "--"}, paths...)...)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if len(id) >= 40 && strings.Trim(id, "0") != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for line := range strings.Lines(string(history)) {
		// :<old mode> <new mode> <old id> <new id> <status>\t<path>
		if f := strings.Fields(line); len(f) >= 5 && strings.HasPrefix(f[0], ":") {
			add(f[3])
		}
	}
	for line := range strings.Lines(string(index)) {
		// <mode> <id> <stage>\t<path>
		if f := strings.Fields(line); len(f) >= 3 {
			add(f[1])
		}
	}
	return ids, nil
}

// git runs a reading git command in dir. Paths are taken literally, never
// as patterns.
func git(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--literal-pathspecs", "-C", dir}, args...)...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
