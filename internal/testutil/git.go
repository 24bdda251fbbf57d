package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// Git runs git in dir with a fixed identity, as a test's commits need on a
// machine without a git configuration.
func Git(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=spgen test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=spgen test", "GIT_COMMITTER_EMAIL=test@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
