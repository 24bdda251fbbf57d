// Package progress reports the steps of a long command on stderr, with the
// time each took, so users see what spgen is waiting for.
package progress

import (
	"fmt"
	"io"
	"time"
)

// Reporter prints steps to w; a nil Reporter prints nothing.
type Reporter struct {
	w io.Writer
}

// New returns a Reporter writing to w.
func New(w io.Writer) *Reporter { return &Reporter{w: w} }

// Step announces a step and returns the function that ends it.
func (r *Reporter) Step(name string) func(err error) {
	if r == nil || r.w == nil {
		return func(error) {}
	}
	start := time.Now()
	fmt.Fprintf(r.w, "  %s ...", name)
	return func(err error) {
		d := time.Since(start).Round(time.Millisecond)
		if err != nil {
			fmt.Fprintf(r.w, " failed (%s)\n", d)
			return
		}
		fmt.Fprintf(r.w, " done (%s)\n", d)
	}
}

// Printf prints a line.
func (r *Reporter) Printf(format string, args ...any) {
	if r == nil || r.w == nil {
		return
	}
	fmt.Fprintf(r.w, format, args...)
}
