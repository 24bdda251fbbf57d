// Package verify type-checks a generated module with go/packages, so a
// project is only committed when it compiles.
package verify

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// TypeErrors lists the compile errors of a module, each as file:line: message.
type TypeErrors struct {
	Errors []string
}

func (e *TypeErrors) Error() string {
	return "the project does not type-check:\n" + strings.Join(e.Errors, "\n")
}

// Module type-checks every package of the module in dir, test files included.
// Dependencies come from export data in the build cache, which keeps a warm
// run well under a second.
func Module(dir string) error { return ModuleWith(dir, nil) }

// ModuleWith type-checks the module in dir as if the files in overlay (by
// project-relative path) had the given contents, without writing them.
func ModuleWith(dir string, overlay map[string][]byte) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	abso := make(map[string][]byte, len(overlay))
	for rel, content := range overlay {
		abso[filepath.Join(abs, filepath.FromSlash(rel))] = content
	}
	cfg := &packages.Config{
		Overlay: abso,
		Dir:     abs,
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Tests:   true,
		// Every run stages the project in a new directory; without
		// -trimpath the directory is part of each package's build cache key
		// and nothing of an earlier run's compilation could be reused.
		BuildFlags: []string{"-trimpath"},
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return fmt.Errorf("loading packages: %w", err)
	}
	if len(pkgs) == 0 {
		return errors.New("no packages found")
	}
	var typeErrs, otherErrs []string
	seen := map[string]bool{}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			msg := e.Msg
			if e.Pos != "" && e.Pos != "-" {
				msg = relative(e.Pos, abs) + ": " + e.Msg
			}
			if seen[msg] {
				continue
			}
			seen[msg] = true
			if e.Kind == packages.TypeError || e.Kind == packages.ParseError {
				typeErrs = append(typeErrs, msg)
			} else {
				otherErrs = append(otherErrs, relative(msg, abs))
			}
		}
	})
	// go list repeats type errors as list errors with other wording; report
	// those only when there is nothing more precise.
	list := typeErrs
	if len(list) == 0 {
		list = otherErrs
	}
	if len(list) > 0 {
		sort.Strings(list)
		return &TypeErrors{Errors: list}
	}
	return nil
}

// relative turns an absolute file:line:col into a project path file:line.
func relative(pos, root string) string {
	p := strings.TrimPrefix(pos, root+string(filepath.Separator))
	// Drop the column: users navigate by line.
	if parts := strings.Split(p, ":"); len(parts) == 3 {
		p = parts[0] + ":" + parts[1]
	}
	return p
}
