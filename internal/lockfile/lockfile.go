// Package lockfile holds an exclusive OS file lock on a project while one
// spgen command works on it, so two commands never interleave their writes.
// The lock dies with the process that holds it: a killed command leaves no
// stale lock behind.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Lock is a held lock.
type Lock struct{ f *os.File }

// BusyError says who holds the lock a command could not get.
type BusyError struct {
	Holder string
	Waited time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another spgen command is working on this project (%s); waited %s for it, try again when it has finished", e.Holder, e.Waited.Round(time.Second))
}

// Acquire takes the lock at path, which it creates if needed. When another
// process holds it, Acquire calls waiting once with the holder's
// description and keeps trying until timeout.
func Acquire(path, self string, timeout time.Duration, waiting func(holder string)) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if time.Since(start) >= timeout {
			f.Close()
			return nil, &BusyError{Holder: holder(path), Waited: time.Since(start)}
		}
		if !told && waiting != nil {
			told = true
			waiting(holder(path))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The content only describes the holder for waiting commands; the lock
	// itself is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d: %s", os.Getpid(), self)), 0)
	}
	return &Lock{f: f}, nil
}

func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "holder unknown"
	}
	return strings.TrimSpace(string(b))
}

// Release gives the lock up.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}
