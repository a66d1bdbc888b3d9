// Command regen is the regression-testing harness for reproducible image
// generation. See README.md.
//
// Built plainly (go build, go run, the Dockerfile) it runs every command.
// hack/build.sh builds it twice: bin/regen-full, the same, and bin/regen
// with -tags regenfast, which links only `regen compare` (app.Serves) and
// executes bin/regen-full, found next to it, for everything else: a compare
// then starts like a small program instead of initialising the ≈ 350
// packages the cluster commands link.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/regen-dev/regen/cmd/regen/app"
)

func main() {
	args := os.Args[1:]
	if !app.Serves(args) {
		full, err := fullBuild()
		if err == nil {
			err = forward(full, args) // returns only when it failed
		}
		fmt.Fprintf(os.Stderr, "regen: %v\n", err)
		os.Exit(app.ExitInfra)
	}
	collectLate(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(app.ExitCode(err, os.Stderr))
}
