package testutil

import (
	"os"
	"sync"
	"testing"
)

var shared struct {
	sync.Mutex
	dirs []string
}

// SharedDir makes a directory for what a package's tests build once and
// share (a binary, a project they copy), which outlives any one test's
// t.TempDir. Packages that use it run their tests through Main, which
// removes it afterwards.
func SharedDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	shared.Lock()
	defer shared.Unlock()
	shared.dirs = append(shared.dirs, dir)
	return dir, nil
}

// Main runs a package's tests and removes the directories SharedDir made;
// call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	shared.Lock()
	for _, dir := range shared.dirs {
		_ = os.RemoveAll(dir)
	}
	shared.Unlock()
	os.Exit(code)
}

var processTemp struct {
	sync.Once
	dir string
	err error
}

// ProcessTempDir is the TMPDIR setting for processes the tests start and
// may kill: what a killed process, or a go command it ran, leaves in its
// temporary directory is removed after the tests with the shared
// directories (a test's own t.TempDir could still be written to while it
// is removed).
func ProcessTempDir(t *testing.T) string {
	t.Helper()
	processTemp.Do(func() { processTemp.dir, processTemp.err = SharedDir("spgen-processes-") })
	if processTemp.err != nil {
		t.Fatal(processTemp.err)
	}
	return "TMPDIR=" + processTemp.dir
}
