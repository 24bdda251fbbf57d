package merge

import (
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// importsPlaceholder stands for a file's import declarations while the rest
// of the file is merged line by line.
const importsPlaceholder = "import () // spgen: merged imports go here\n"

// Go merges two versions of a Go file like Three, except that the import
// declarations are merged as sets: an import either side added is kept,
// one either side removed is dropped, so a template import next to a user
// import is not a conflict. local is the module path, whose packages form
// the last import group. Files whose package clause or imports do not
// parse are merged as text; the result is gofmt-formatted when it parses.
func Go(base, ours, theirs, local string, l Labels) Result {
	b, okB := splitImports(base)
	o, okO := splitImports(ours)
	t, okT := splitImports(theirs)
	if !okB || !okO || !okT {
		return Three(base, ours, theirs, l)
	}
	rest := Three(b.rest, o.rest, t.rest, l)
	block := renderImports(mergeSets(b.specs, o.specs, t.specs), local)
	text := strings.Replace(rest.Text, importsPlaceholder, block, 1)
	if rest.Conflicts == 0 {
		if formatted, err := format.Source([]byte(text)); err == nil {
			text = string(formatted)
		}
	}
	return Result{Text: text, Conflicts: rest.Conflicts}
}

// goFile is a Go file cut into its import specs and everything else, with
// the imports replaced by importsPlaceholder.
type goFile struct {
	specs []string
	rest  string
}

func splitImports(src string) (goFile, bool) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return goFile{}, false
	}
	var decls []*ast.GenDecl
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			decls = append(decls, g)
		}
	}
	file := fset.File(f.Pos())
	var start, end int
	if len(decls) == 0 {
		// No imports: they would go right after the package clause.
		start = lineEnd(src, file.Offset(f.Name.End()))
		end = start
	} else {
		start = file.Offset(decls[0].Pos())
		end = lineEnd(src, file.Offset(decls[len(decls)-1].End()))
	}
	// Comments of their own inside the imports would be lost by a merge
	// of import sets; such files are merged as text.
	lineComments := map[*ast.CommentGroup]bool{}
	for _, d := range decls {
		for _, s := range d.Specs {
			lineComments[s.(*ast.ImportSpec).Comment] = true
		}
	}
	for _, cg := range f.Comments {
		off := file.Offset(cg.Pos())
		if off >= start && off < end && !lineComments[cg] {
			return goFile{}, false
		}
	}
	var specs []string
	for _, d := range decls {
		for _, s := range d.Specs {
			is := s.(*ast.ImportSpec)
			spec := is.Path.Value
			if is.Name != nil {
				spec = is.Name.Name + " " + spec
			}
			if is.Comment != nil {
				spec += " " + strings.TrimSpace(src[file.Offset(is.Comment.Pos()):file.Offset(is.Comment.End())])
			}
			specs = append(specs, spec)
		}
	}
	rest := src[:start] + importsPlaceholder + src[end:]
	if len(decls) == 0 {
		rest = src[:start] + "\n" + importsPlaceholder + src[end:]
	}
	return goFile{specs: specs, rest: rest}, true
}

// lineEnd returns the offset just past the newline that ends the line
// containing off.
func lineEnd(src string, off int) int {
	if i := strings.IndexByte(src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(src)
}

// mergeSets keeps what both sides have, and what either side added to the
// base; what either side removed from the base is gone.
func mergeSets(base, ours, theirs []string) []string {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[importKey(s)] = true
		}
		return m
	}
	b, o, t := in(base), in(ours), in(theirs)
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), ours...), theirs...) {
		k := importKey(s)
		if seen[k] {
			continue
		}
		seen[k] = true
		if (o[k] && t[k]) || (o[k] && !b[k]) || (t[k] && !b[k]) {
			out = append(out, s)
		}
	}
	return out
}

// importKey identifies an import by name and path, without its comment.
func importKey(spec string) string {
	if i := strings.Index(spec, "//"); i >= 0 {
		spec = spec[:i]
	}
	return strings.TrimSpace(spec)
}

// renderImports writes one import declaration with the standard library
// first, other modules next and the module's own packages last.
func renderImports(specs []string, local string) string {
	if len(specs) == 0 {
		return ""
	}
	var groups [3][]string
	for _, s := range specs {
		path := importPath(s)
		switch {
		case local != "" && (path == local || strings.HasPrefix(path, local+"/")):
			groups[2] = append(groups[2], s)
		case !strings.Contains(strings.SplitN(path, "/", 2)[0], "."):
			groups[0] = append(groups[0], s)
		default:
			groups[1] = append(groups[1], s)
		}
	}
	var b strings.Builder
	b.WriteString("import (\n")
	first := true
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		if !first {
			b.WriteString("\n")
		}
		first = false
		sort.SliceStable(g, func(i, j int) bool { return importPath(g[i]) < importPath(g[j]) })
		for _, s := range g {
			b.WriteString("\t" + s + "\n")
		}
	}
	b.WriteString(")\n")
	return b.String()
}

func importPath(spec string) string {
	key := importKey(spec)
	if i := strings.LastIndexByte(key, ' '); i >= 0 {
		key = key[i+1:]
	}
	p, err := strconv.Unquote(key)
	if err != nil {
		return key
	}
	return p
}

// Retained is the share of base's lines that are still in ours, from 0 to
// 1: a file the user rewrote wholesale has little of the base left.
func Retained(base, ours string) float64 {
	total := strings.Count(base, "\n")
	if total == 0 {
		return 1
	}
	removed := 0
	for _, e := range lineEdits(base, ours) {
		removed += strings.Count(base[e.Start:e.End], "\n")
	}
	return float64(total-removed) / float64(total)
}
