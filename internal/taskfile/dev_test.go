package taskfile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/testutil/envtestbin"
)

// task is the Task release the README tells users to install.
const task = "github.com/go-task/task/v3/cmd/task@v3.54.0"

// ready is what `task dev` prints once the provider runs.
const ready = "Ctrl-C stops the provider and the clusters."

// TestDevStopsEverything runs `task dev` in a generated project and stops
// it the ways a terminal does: Ctrl-C and a closed terminal signal the
// foreground process group, `kill -- -PGID` sends SIGTERM to it, and
// `task dev | head` breaks its output pipe. Each time task exits with
// status 0 and no process it started is left.
func TestDevStopsEverything(t *testing.T) {
	assets, err := envtestbin.Assets(context.Background(), os.Stderr)
	if err != nil {
		t.Fatalf("provisioning envtest binaries: %v", err)
	}
	taskBin := installTask(t)
	dir := copyProject(t, filepath.Join("..", "..", "golden", "default"))
	for _, stop := range []string{"SIGINT", "SIGTERM", "SIGHUP", "broken pipe"} {
		t.Run(strings.ReplaceAll(stop, " ", "-"), func(t *testing.T) {
			marker := fmt.Sprintf("SPGEN_DEVLOOP_RUN=%d-%s", os.Getpid(), strings.ReplaceAll(stop, " ", "-"))
			dev := startDev(t, taskBin, dir, assets, marker)
			if stop == "SIGINT" {
				secondDevRefused(t, taskBin, dir, assets)
			}
			if stop == "broken pipe" {
				_ = dev.stdout.Close()
			} else {
				sig := map[string]syscall.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM, "SIGHUP": syscall.SIGHUP}[stop]
				if err := syscall.Kill(-dev.cmd.Process.Pid, sig); err != nil {
					t.Fatal(err)
				}
			}
			if err := dev.wait(10 * time.Minute); err != nil {
				t.Errorf("task dev after %s: %v\nstderr:\n%s", stop, err, dev.stderr.String())
			}
			if left := processesWith(t, marker); len(left) > 0 {
				t.Errorf("after %s, processes of task dev are still running:\n%s", stop, strings.Join(left, "\n"))
			}
		})
	}
}

// secondDevRefused: a second `task dev` in the same project stops at once,
// saying why, instead of removing the running one's kubeconfigs.
func secondDevRefused(t *testing.T, taskBin, dir, assets string) {
	t.Helper()
	cmd := exec.Command(taskBin, "dev")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "task dev already runs in this project") {
		t.Errorf("a second task dev: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "local-openmcp", "provider.log")); err != nil {
		t.Errorf("the second task dev touched the first one's files: %v", err)
	}
}

// installTask builds the pinned Task from the module proxy (the build
// cache keeps it).
func installTask(t *testing.T) string {
	t.Helper()
	taskOnce.Do(func() {
		bin, err := testutil.SharedDir("spgen-task-")
		if err != nil {
			taskErr = err
			return
		}
		cmd := exec.Command("go", "install", task)
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			taskErr = fmt.Errorf("go install %s: %v\n%s", task, err, out)
		}
		taskBin = filepath.Join(bin, "task")
	})
	if taskErr != nil {
		t.Fatal(taskErr)
	}
	return taskBin
}

var (
	taskOnce sync.Once
	taskBin  string
	taskErr  error
)

func copyProject(t *testing.T, from string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return dir
}

type devRun struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr *bytes.Buffer
	done   chan error
}

// startDev starts `task dev` in a process group of its own, as a shell
// starts a foreground job, and waits until the provider runs.
func startDev(t *testing.T, taskBin, dir, assets, marker string) *devRun {
	t.Helper()
	cmd := exec.Command(taskBin, "dev")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets, marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	dev := &devRun{cmd: cmd, stdout: stdout, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = dev.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	printed := make(chan string, 1)
	go func() {
		var out strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if sc.Text() == ready {
				printed <- out.String()
				return
			}
		}
		printed <- out.String()
	}()
	go func() { dev.done <- cmd.Wait() }()
	select {
	case out := <-printed:
		if !strings.Contains(out, ready) {
			t.Fatalf("task dev stopped before the provider ran:\n%s\nstderr:\n%s", out, dev.stderr.String())
		}
		if !strings.Contains(out, "bin/local-openmcp/provider.log") {
			t.Errorf("task dev does not say where the provider's log is:\n%s", out)
		}
	case <-time.After(15 * time.Minute):
		t.Fatalf("task dev printed no %q within 15 minutes\nstderr:\n%s", ready, dev.stderr.String())
	}
	waitForLog(t, filepath.Join(dir, "bin", "local-openmcp", "provider.log"), `"msg":"Starting workers"`)
	return dev
}

// waitForLog waits until the provider's log holds want: a provider that
// runs its controllers, so stopping it takes its own shutdown path.
func waitForLog(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		log, err := os.ReadFile(path)
		if err == nil && bytes.Contains(log, []byte(want)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the provider's log %s lacks %s after 5 minutes:\n%s", path, want, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wait waits for task to exit and expects status 0.
func (d *devRun) wait(timeout time.Duration) error {
	select {
	case err := <-d.done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("still running after %s", timeout)
	}
}

// processesWith lists the running processes whose environment holds
// marker: everything task dev started inherits it.
func processesWith(t *testing.T, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(environ, []byte("\x00"+marker+"\x00")) && !bytes.HasPrefix(environ, []byte(marker+"\x00")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if strings.Contains(string(stat), ") Z ") {
			continue // exited, waiting to be reaped by whoever inherited it
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		found = append(found, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return found
}
