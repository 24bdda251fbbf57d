package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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

	"github.com/open-control-plane/spgen/internal/cli"
	"github.com/open-control-plane/spgen/internal/flock"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/typecheck"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// spgenBinary builds spgen once per test binary, for tests that need real
// processes: signals, concurrency.
func spgenBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := testutil.SharedDir("spgen-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "spgen")
		out, err := exec.Command("go", "build", "-o", binaryPath, "github.com/open-control-plane/spgen/cmd/spgen").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("building spgen: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// TestConcurrentCommands runs several spgen commands on one project at
// once, in separate processes. The project lock serializes them: every one
// succeeds, every file the lock records exists with the recorded hash, and
// the project type-checks.
func TestConcurrentCommands(t *testing.T) {
	bin := spgenBinary(t)
	for round := range 3 {
		dir := newProject(t)
		commands := [][]string{
			{"generate"}, {"add-api", "--kind", "Schedule"}, {"generate"}, {"add-api", "--kind", "Restore"}, {"generate"},
		}
		var wg sync.WaitGroup
		results := make([]string, len(commands))
		for i, args := range commands {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, append(args, "--dir", dir)...)
				// Five commands in a row take longer than the default wait
				// on a busy machine.
				cmd.Env = append(os.Environ(), cli.LockWaitVariable+"=10m")
				out, err := cmd.CombinedOutput()
				if err != nil {
					results[i] = fmt.Sprintf("spgen %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r != "" {
				t.Errorf("round %d: %s", round, r)
			}
		}
		lock, err := scaffold.ParseManifest([]byte(readFile(t, filepath.Join(dir, scaffold.ManifestPath))))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range lock.Files {
			data, err := os.ReadFile(filepath.Join(dir, e.Path))
			if err != nil || scaffold.Hash(data) != e.Hash {
				t.Errorf("round %d: %s recorded in the lock but missing or different on disk (%v)", round, e.Path, err)
			}
		}
		for _, kind := range []string{"schedule", "restore"} {
			if _, err := os.Stat(filepath.Join(dir, "api", "v1alpha1", kind+"_types.go")); err != nil {
				t.Errorf("round %d: add-api %s lost: %v", round, kind, err)
			}
		}
		if err := typecheck.Module(context.Background(), dir); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

// TestBusyProject: a command that cannot get the project lock says so and
// fails, changing nothing.
func TestBusyProject(t *testing.T) {
	dir := newProject(t)
	held, err := flock.Acquire(filepath.Join(dir, ".spgen"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	saved := cli.LockWait
	cli.LockWait = 300 * time.Millisecond
	defer func() { cli.LockWait = saved }()
	before := state(t, dir)
	code, _, stderr := run(t, "generate", "--dir", dir)
	if code != cli.ExitError {
		t.Errorf("exit %d, want %d", code, cli.ExitError)
	}
	for _, want := range []string{"waiting up to 300ms for it to finish", "another spgen command is working on this project; waited"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if state(t, dir) != before {
		t.Error("the project changed")
	}
}

// TestLockWaitVariable: SPGEN_LOCK_WAIT sets how long a command waits for
// the project lock; a value that is no duration is bad input, and nothing
// changes.
func TestLockWaitVariable(t *testing.T) {
	dir := newProject(t)
	held, err := flock.Acquire(filepath.Join(dir, ".spgen"), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	before := state(t, dir)
	t.Setenv(cli.LockWaitVariable, "200ms")
	code, _, stderr := run(t, "generate", "--dir", dir)
	if code != cli.ExitError || !strings.Contains(stderr, "waiting up to 200ms for it to finish (SPGEN_LOCK_WAIT sets how long)") {
		t.Errorf("exit %d, want %d after waiting 200ms:\n%s", code, cli.ExitError, stderr)
	}
	t.Setenv(cli.LockWaitVariable, "soon")
	code, _, stderr = run(t, "generate", "--dir", dir)
	if code != cli.ExitUsage || !strings.Contains(stderr, `invalid SPGEN_LOCK_WAIT "soon"`) {
		t.Errorf("exit %d, want %d naming the variable:\n%s", code, cli.ExitUsage, stderr)
	}
	if state(t, dir) != before {
		t.Error("the project changed")
	}
}

// proc is a spgen process started in its own process group, as a shell
// starts a foreground job, with its stderr followed line by line.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr bytes.Buffer
	mu     sync.Mutex
	done   chan error
}

func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{lines: make(chan string, 1000), done: make(chan error, 1)}
	p.cmd = exec.Command(spgenBinary(t), args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(append(os.Environ(), testutil.ProcessTempDir(t)), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) })
	return p
}

// waitFor waits until a line of stderr contains text.
func (p *proc) waitFor(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, text) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q on stderr within %s:\n%s", text, timeout, p.output())
		}
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// interrupt sends SIGINT to the process group, as Ctrl-C in a terminal
// does, and returns the exit code and how long the process took to exit.
func (p *proc) interrupt(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), time.Since(start)
		}
		return 0, time.Since(start)
	case <-time.After(20 * time.Second):
		t.Fatalf("spgen did not stop within 20s of SIGINT:\n%s", p.output())
	}
	return 0, 0
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) map[int]string {
	children := map[int][]int{}
	cmdline := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		parent, _ := strconv.Atoi(fields[1])
		children[parent] = append(children[parent], child)
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cmdline[child] = string(cmd)
	}
	out := map[int]string{}
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out[c] = cmdline[c]
			walk(c)
		}
	}
	walk(pid)
	return out
}

// stillRunning reports which of procs still run the same command line.
func stillRunning(procs map[int]string) []string {
	var out []string
	for pid, cmd := range procs {
		now, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err == nil && string(now) == cmd {
			out = append(out, strings.ReplaceAll(cmd, "\x00", " "))
		}
	}
	return out
}

// TestInterruptColdInit interrupts an init on a machine whose module and
// build caches are empty, while it downloads and compiles: spgen stops at
// once with exit 130, stops every go process it started, and leaves no
// project and no staging directory behind.
func TestInterruptColdInit(t *testing.T) {
	realCache := strings.TrimSpace(goEnv(t, "GOMODCACHE"))
	// Every module of the stack must be in this machine's cache, also those
	// no build has needed yet (a fresh machine has only those).
	download := exec.Command("go", "mod", "download")
	download.Dir = filepath.Join("..", "..", "golden", "default")
	if out, err := download.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	cold := t.TempDir()
	env := []string{
		"GOMODCACHE=" + filepath.Join(cold, "mod"), "GOCACHE=" + filepath.Join(cold, "build"),
		"XDG_CACHE_HOME=" + filepath.Join(cold, "cache"),
		// The modules come from this machine's cache, as from a proxy.
		"GOPROXY=file://" + filepath.Join(realCache, "cache", "download"), "GOSUMDB=off",
	}
	t.Cleanup(func() { _ = exec.Command("chmod", "-R", "u+w", cold).Run() })
	parent := t.TempDir()
	p := start(t, parent, env, "init", "--module", "example.com/acme/sp-cold", "--kind", "Velero", "--group", "velero")
	p.waitFor(t, "compiling dependencies (first run only)", 2*time.Minute)
	time.Sleep(2 * time.Second) // compilers are running
	children := descendants(p.cmd.Process.Pid)
	if len(children) == 0 {
		t.Fatalf("no go processes while compiling:\n%s", p.output())
	}
	code, took := p.interrupt(t)
	if code != cli.ExitInterrupted || took > 10*time.Second {
		t.Errorf("exit %d after %s, want %d at once\n%s", code, took, cli.ExitInterrupted, p.output())
	}
	checkStopped(t, children)
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	if !strings.Contains(p.output(), "interrupted; nothing was written") {
		t.Errorf("no word of the interrupt:\n%s", p.output())
	}
}

// TestInterruptWarmInit interrupts an init while it generates code.
func TestInterruptWarmInit(t *testing.T) {
	parent := t.TempDir()
	p := start(t, parent, nil, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero")
	p.waitFor(t, "generating deepcopy, CRDs", time.Minute)
	code, took := p.interrupt(t)
	if code != cli.ExitInterrupted || took > 10*time.Second {
		t.Errorf("exit %d after %s, want %d at once\n%s", code, took, cli.ExitInterrupted, p.output())
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestInterruptGenerate interrupts generate after a types edit: the project
// is unchanged.
func TestInterruptGenerate(t *testing.T) {
	dir := newProject(t)
	edit(t, filepath.Join(dir, "api", "v1alpha1", "velero_types.go"), "type VeleroSpec struct {", "type VeleroSpec struct {\n\t// Note is new.\n\t// +optional\n\tNote string `json:\"note,omitempty\"`\n")
	before := state(t, dir)
	p := start(t, dir, nil, "generate")
	p.waitFor(t, "generating deepcopy, CRDs", time.Minute)
	code, _ := p.interrupt(t)
	if code != cli.ExitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, cli.ExitInterrupted, p.output())
	}
	if state(t, dir) != before {
		t.Error("the project changed")
	}
	if stages, _ := filepath.Glob(filepath.Join(dir, ".spgen", "stage-*")); len(stages) > 0 {
		t.Errorf("stage left behind: %v", stages)
	}
}

// TestInterruptTwice: a second interrupt ends spgen at once and still
// removes its stage; a run killed outright leaves a stage that the next
// init of the same target removes.
func TestInterruptTwice(t *testing.T) {
	parent := t.TempDir()
	p := start(t, parent, nil, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero")
	p.waitFor(t, "generating deepcopy, CRDs", time.Minute)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	code, _ := p.interrupt(t)
	if code != cli.ExitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, cli.ExitInterrupted, p.output())
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}

	p = start(t, parent, nil, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero")
	p.waitFor(t, "generating deepcopy, CRDs", time.Minute)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	if err := <-p.done; err == nil {
		t.Fatal("init exited cleanly after SIGKILL")
	}
	if stages, _ := filepath.Glob(filepath.Join(parent, ".sp-velero.spgen-*")); len(stages) != 1 {
		t.Fatalf("after SIGKILL: stages %v, want the killed run's", stages)
	}
	if code, _, stderr := run(t, "init", "--module", "example.com/acme/sp-velero", "--kind", "Velero", "--group", "velero", "--dir", filepath.Join(parent, "sp-velero"), "--skip-verify"); code != 0 {
		t.Fatalf("init after a killed init: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 || entries[0].Name() != "sp-velero" {
		t.Errorf("after the next init: %v, want only the project", entries)
	}
	info, err := os.Stat(filepath.Join(parent, "sp-velero"))
	if err != nil || info.Mode().Perm() != 0o777&^umask() {
		t.Errorf("project directory mode %v (%v), want %v", info.Mode().Perm(), err, os.FileMode(0o777&^umask()))
	}
}

func checkStopped(t *testing.T, procs map[int]string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := stillRunning(procs)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes spgen started still run after it exited: %v", left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
