// Command spgen scaffolds openMCP service providers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/open-control-plane/spgen/internal/cli"
)

func main() {
	// The first interrupt stops spgen before it writes anything; handling
	// then returns to the default, so a second one ends it at once (the
	// journal keeps the project whole either way).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
