// Package abort removes what an unfinished spgen command leaves behind
// (staging directories) when it is stopped without a chance to unwind: the
// second interrupt ends spgen at once, after running these cleanups.
package abort

import (
	"os"
	"sync"
)

var (
	mu       sync.Mutex
	next     int
	cleanups = map[int]func(){}
)

// Register adds a cleanup and returns the function that withdraws it, to be
// called once the command has cleaned up (or committed) on its own.
func Register(cleanup func()) (withdraw func()) {
	mu.Lock()
	defer mu.Unlock()
	id := next
	next++
	cleanups[id] = cleanup
	return func() {
		mu.Lock()
		defer mu.Unlock()
		delete(cleanups, id)
	}
}

// Run runs every registered cleanup.
func Run() {
	mu.Lock()
	defer mu.Unlock()
	for id, c := range cleanups {
		c()
		delete(cleanups, id)
	}
}

// RemoveAll removes dir for a cleanup. The command being stopped may still
// be writing into it while the cleanup runs, which makes one removal fail
// with a directory that is not empty; it is repeated until the directory is
// gone (a write into a removed directory fails).
func RemoveAll(dir string) {
	for range 20 {
		if err := os.RemoveAll(dir); err == nil {
			return
		}
	}
}
