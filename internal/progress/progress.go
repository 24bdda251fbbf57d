// Package progress reports the steps of a long command on stderr, with the
// time each took, so users see what spgen is waiting for.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Reporter prints steps to w; a nil Reporter prints nothing.
type Reporter struct {
	w io.Writer
	// tty rewrites one line in place; elsewhere (CI logs, pipes) counts are
	// printed as new lines every few seconds.
	tty bool
}

// New returns a Reporter writing to w.
func New(w io.Writer) *Reporter {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &Reporter{w: w, tty: tty}
}

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

// Counter is a step that counts items (modules downloaded, packages
// compiled) towards a total, with the time it has taken so far.
type Counter struct {
	r     *Reporter
	name  string
	unit  string
	total int
	start time.Time

	mu   sync.Mutex
	n    int
	note string
	stop chan struct{}
	done sync.WaitGroup
}

// interval is how often a count is shown when nothing else happens.
const (
	ttyInterval  = 200 * time.Millisecond
	logInterval  = 5 * time.Second
	countPadding = "          "
)

// Count starts a counted step; total is the number of items expected.
func (r *Reporter) Count(name, unit string, total int) *Counter {
	c := &Counter{r: r, name: name, unit: unit, total: total, start: time.Now(), stop: make(chan struct{})}
	if r == nil || r.w == nil {
		return c
	}
	if !r.tty {
		fmt.Fprintf(r.w, "  %s: %d %s ...\n", name, total, unit)
	}
	interval := logInterval
	if r.tty {
		interval = ttyInterval
	}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.show()
			}
		}
	}()
	return c
}

// Add counts n more items.
func (c *Counter) Add(n int) {
	c.mu.Lock()
	c.n += n
	c.mu.Unlock()
}

// Count is how many items were counted so far.
func (c *Counter) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Note adds a remark to the final line, such as how many of the items
// needed no work.
func (c *Counter) Note(note string) {
	c.mu.Lock()
	c.note = note
	c.mu.Unlock()
}

func (c *Counter) line() string {
	c.mu.Lock()
	n := c.n
	c.mu.Unlock()
	return fmt.Sprintf("%s: %d/%d %s (%s)", c.name, n, c.total, c.unit, time.Since(c.start).Round(time.Second))
}

func (c *Counter) show() {
	if c.r.tty {
		fmt.Fprintf(c.r.w, "\r  %s%s", c.line(), countPadding)
		return
	}
	fmt.Fprintf(c.r.w, "    %s\n", c.line())
}

// Done ends the step.
func (c *Counter) Done(err error) {
	if c.r == nil || c.r.w == nil {
		return
	}
	close(c.stop)
	c.done.Wait()
	status := "done"
	if err != nil {
		status = "failed"
	}
	c.mu.Lock()
	n, note := c.n, c.note
	c.mu.Unlock()
	if note != "" {
		note = " (" + note + ")"
	}
	prefix, padding := "  ", ""
	if c.r.tty {
		prefix, padding = "\r  ", countPadding
	}
	fmt.Fprintf(c.r.w, "%s%s: %d/%d %s%s, %s (%s)%s\n", prefix, c.name, n, c.total, c.unit, note, status, time.Since(c.start).Round(time.Millisecond), padding)
}
