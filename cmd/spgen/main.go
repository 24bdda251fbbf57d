// Command spgen scaffolds openMCP service providers.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/open-control-plane/spgen/internal/abort"
	"github.com/open-control-plane/spgen/internal/cli"
)

func main() {
	// The first interrupt stops spgen before it writes anything: subprocesses
	// are stopped and staged work removed as the command unwinds. Work that
	// cannot notice (a read the kernel has not returned from) must not keep
	// spgen alive: if the command has not unwound within grace, or on a
	// second interrupt, spgen ends at once, after removing staging
	// directories; the journal keeps the project whole either way.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-signals
		cancel()
		select {
		case <-signals:
		case <-time.After(grace):
		}
		abort.Run()
		fmt.Fprintln(os.Stderr, "spgen: stopped at once; the next spgen command completes or discards any unfinished change")
		os.Exit(cli.ExitInterrupted)
	}()
	os.Exit(cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// grace is how long a command may take to unwind after an interrupt: a
// cancelled go command is killed at once and a transaction applies in
// milliseconds, so only a stuck command waits this long.
const grace = 1500 * time.Millisecond
