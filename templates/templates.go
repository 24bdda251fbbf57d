// Package templates holds the text/template files spgen renders into a
// service provider repository.
package templates

import "embed"

// FS holds the current template set under project/ and, under
// generations/<name>/, the templates of earlier generations that differ
// from it.
//
//go:embed project generations
var FS embed.FS
