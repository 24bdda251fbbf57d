// Command spgen scaffolds openMCP service providers.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/open-control-plane/spgen/internal/abort"
	"github.com/open-control-plane/spgen/internal/cli"
)

func main() {
	// The first interrupt stops spgen before it writes anything: subprocesses
	// are stopped and staged work removed as the command unwinds. A second
	// one ends spgen at once, after removing staging directories; the
	// journal keeps the project whole either way.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-signals
		cancel()
		<-signals
		abort.Run()
		fmt.Fprintln(os.Stderr, "spgen: stopped at once; the next spgen command completes or discards any unfinished change")
		os.Exit(cli.ExitInterrupted)
	}()
	os.Exit(cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
