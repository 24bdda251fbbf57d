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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
