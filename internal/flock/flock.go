// Package flock holds an exclusive OS file lock on a project while one
// spgen command works on it, so two commands never interleave their writes.
// The lock is taken on a directory, so it leaves nothing behind, and dies
// with the process that holds it: a killed command leaves no stale lock.
package flock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Lock is a held lock.
type Lock struct{ f *os.File }

// BusyError reports a lock another process kept for longer than a command
// was willing to wait.
type BusyError struct {
	Waited time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another spgen command is working on this project; waited %s for it to finish, try again when it has", e.Waited.Round(time.Second))
}

// Acquire locks dir, an existing directory. When another process holds the
// lock, Acquire calls waiting once and keeps trying until timeout.
func Acquire(dir string, timeout time.Duration, waiting func()) (*Lock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", dir, err)
		}
		if time.Since(start) >= timeout {
			f.Close()
			return nil, &BusyError{Waited: time.Since(start)}
		}
		if !told && waiting != nil {
			told = true
			waiting()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Release gives the lock up.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}
