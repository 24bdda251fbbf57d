package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// GitIdentity is the environment that gives git a fixed author and
// committer, as the commits of a test (or of a task or script it runs)
// need on a machine without a git configuration.
var GitIdentity = []string{"GIT_AUTHOR_NAME=spgen test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=spgen test", "GIT_COMMITTER_EMAIL=test@example.com"}

// Git runs git in dir with GitIdentity.
func Git(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), GitIdentity...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
