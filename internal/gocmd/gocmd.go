// Package gocmd runs the go command as a child that does not outlive spgen.
package gocmd

import (
	"context"
	"os/exec"
	"syscall"
	"time"
)

// Command returns `go args...` run in dir, in its own process group:
// cancelling ctx kills it and every compiler it started. Where the system
// allows, it is also killed when spgen dies, even by SIGKILL, so that
// nothing it writes (a `go mod tidy` rewriting go.mod in a stage) lands
// after the next spgen command has cleaned up.
func Command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
