// Command regen is the regression-testing harness for reproducible image
// generation. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/regen-dev/regen/cmd/regen/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(app.ExitCode(err, os.Stderr))
}
