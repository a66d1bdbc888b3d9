// Command regen-executor is a ComfyUI-compatible server running regen's
// closed-form diffusion model. See executor.Main for its flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/regen-dev/regen/executor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := executor.Main(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "regen-executor:", err)
		stop()
		os.Exit(1)
	}
}
