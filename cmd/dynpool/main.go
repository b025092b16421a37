// Command dynpool is the one binary of dynpool: the server (dynpool server),
// the worker agent (dynpool agent), a local demo (dynpool demo) and the
// client commands (tenants, pools, images, tasks, workers, run) that talk to
// a server over its HTTP API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
