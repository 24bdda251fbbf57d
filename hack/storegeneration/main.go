// Command storegeneration stores a released template generation as the
// edits that turn the next generation's templates into it, so a release
// adds what it changed rather than copies of whole files. Before changing
// templates/project for a new generation, copy it aside; afterwards run
//
//	go run ./hack/storegeneration -name 7 -old /tmp/templates-7
//
// which writes templates/generations/7.rcs (edits from templates/project
// to the copy), then list "7" first in the overlays of the generations
// before it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/open-control-plane/spgen/internal/linepatch"
)

func main() {
	name := flag.String("name", "", "the generation being stored")
	old := flag.String("old", "", "a copy of its templates (templates/project as it was)")
	base := flag.String("base", filepath.Join("templates", "project"), "the next generation's templates")
	flag.Parse()
	if err := run(*name, *old, *base); err != nil {
		fmt.Fprintln(os.Stderr, "storegeneration:", err)
		os.Exit(1)
	}
}

func run(name, old, base string) error {
	if name == "" || old == "" {
		return fmt.Errorf("-name and -old are required")
	}
	before, err := read(old)
	if err != nil {
		return err
	}
	after, err := read(base)
	if err != nil {
		return err
	}
	patches := map[string]string{}
	for file, text := range before {
		if text == after[file] {
			continue
		}
		p, err := diff(after[file], text)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		patches[file] = p
	}
	header := fmt.Sprintf("Generation %s: the edits (diff -n format) that turn the next generation's\ntemplates into its own. Written by hack/storegeneration; never edit by hand.", name)
	out := filepath.Join("templates", "generations", name+".rcs")
	if err := os.WriteFile(out, []byte(linepatch.WriteBundle(header, patches)), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d templates differ\n", out, len(patches))
	return nil
}

// read returns every template below dir by its slash-separated path.
func read(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("no templates in %s", dir)
	}
	return out, err
}

// diff returns GNU diff's -n edits from one text to another: the shortest
// it finds, in the format linepatch applies.
func diff(from, to string) (string, error) {
	dir, err := os.MkdirTemp("", "storegeneration-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte(from), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(b, []byte(to), 0o644); err != nil {
		return "", err
	}
	out, err := exec.Command("diff", "-n", a, b).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		err = nil // the texts differ
	}
	if err != nil {
		return "", fmt.Errorf("diff -n: %w", err)
	}
	if got, err := linepatch.Apply(from, string(out)); err != nil || got != to {
		return "", fmt.Errorf("diff -n wrote edits that do not reproduce the template (%v); does each end with a newline?", err)
	}
	return string(out), nil
}
