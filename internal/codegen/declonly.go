package codegen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/controller-tools/pkg/loader"
)

// The CRD generator type-checks every package the API types refer to, and
// controller-tools parses those packages from source, function bodies and
// all, although it checks declarations only. Parsing bodies is most of the
// work of generation. So the generators are given, for every package
// outside the module, copies of its files with function bodies emptied;
// copies are kept in the user cache directory, keyed by the original's
// path, size and modification time (files of the module cache and of
// GOROOT do not change in place).

// useDeclOnlyFiles points the dependencies of roots outside root (the
// module) at declaration-only copies of their files. Files it cannot copy
// are left as they are.
func useDeclOnlyFiles(roots []*loader.Package, root string) {
	dir, err := declOnlyDir()
	if err != nil {
		return
	}
	seen := map[*loader.Package]bool{}
	var visit func(p *loader.Package)
	visit = func(p *loader.Package) {
		if seen[p] {
			return
		}
		seen[p] = true
		for _, imp := range p.Imports() {
			visit(imp)
		}
		for i, f := range p.CompiledGoFiles {
			if strings.HasPrefix(f, root+string(filepath.Separator)) {
				return // a package of the module: its bodies are its own
			}
			if c, err := declOnlyCopy(dir, f); err == nil {
				p.CompiledGoFiles[i] = c
			}
		}
	}
	for _, r := range roots {
		for _, imp := range r.Imports() {
			visit(imp)
		}
	}
}

func declOnlyDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "spgen", "decl-only")
	return dir, os.MkdirAll(dir, 0o777)
}

// declOnlyCopy returns the path of the declaration-only copy of file,
// writing it if it does not exist yet.
func declOnlyCopy(dir, file string) (string, error) {
	info, err := os.Stat(file)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", file, info.Size(), info.ModTime().UnixNano()))
	c := filepath.Join(dir, hex.EncodeToString(sum[:16])+".go")
	if _, err := os.Stat(c); err == nil {
		return c, nil
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return "", err
	}
	_, werr := tmp.Write(declOnly(src))
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing %s: %v %v", tmp.Name(), werr, cerr)
	}
	if err := os.Rename(tmp.Name(), c); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return c, nil
}

// declOnly returns src with the contents of every function body at the
// top level (of declared functions and of function literals in package
// variables) removed; newlines stay, so positions keep their lines.
// Struct and interface types, composite literals and everything else are
// left alone: the declarations mean the same.
func declOnly(src []byte) []byte {
	fset := token.NewFileSet()
	file := fset.AddFile("", -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0)
	var out bytes.Buffer
	cursor := 0
	depth := 0      // braces, parentheses and brackets
	inFunc := false // after a func keyword whose body has not started
	bodyStart := -1 // offset just past a body's opening brace
	var prev token.Token
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			break
		}
		off := file.Offset(pos)
		switch tok {
		case token.FUNC:
			if bodyStart < 0 {
				inFunc = true
			}
		case token.LPAREN, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACK:
			depth--
		case token.LBRACE:
			if bodyStart < 0 && inFunc && depth == 0 && prev != token.STRUCT && prev != token.INTERFACE {
				bodyStart = off + 1
				inFunc = false
			}
			depth++
		case token.RBRACE:
			depth--
			if bodyStart >= 0 && depth == 0 {
				out.Write(src[cursor:bodyStart])
				out.Write(bytes.Repeat([]byte("\n"), bytes.Count(src[bodyStart:off], []byte("\n"))))
				cursor = off
				bodyStart = -1
			}
		case token.SEMICOLON:
			if depth == 0 {
				inFunc = false // a declaration without a body (assembly)
			}
		}
		prev = tok
	}
	out.Write(src[cursor:])
	return out.Bytes()
}
