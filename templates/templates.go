// Package templates holds the text/template files spgen renders into a
// service provider repository.
package templates

import "embed"

// FS holds every template under project/.
//
//go:embed project
var FS embed.FS
