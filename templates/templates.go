// Package templates holds the text/template files spgen renders into a
// service provider repository.
package templates

import "embed"

// FS holds the current template set under project/ and, under
// generations/<name>.rcs, the edits that turn the next generation's
// templates into those of an earlier generation.
//
//go:embed project generations
var FS embed.FS
