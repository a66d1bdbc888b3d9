// Command regen-executor is a ComfyUI-compatible server running regen's
// closed-form diffusion model. See package app for its flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/regen-dev/regen/cmd/regen-executor/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(app.ExitCode(err, os.Stderr))
}
