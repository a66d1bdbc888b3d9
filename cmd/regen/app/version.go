package app

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/internal/version"
)

func versionCommand() command {
	return command{summary: "print regen's version and the commit it was built from", run: runVersion}
}

// runVersion prints "regen 0.1.0 (commit)"; hack/build.sh stamps the
// commit, a plain go build reads it from the module's VCS stamp.
func runVersion(_ context.Context, s Streams, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(s.Out, "Usage: regen version\n\nPrints regen's version and the git commit it was built from.\n\nExamples:\n  regen version\n  regen --version\n\nFlags: none")
		return nil
	}
	if len(args) > 0 {
		return &usageError{msg: fmt.Sprintf("version: unexpected argument %q", args[0]), hint: "regen version"}
	}
	fmt.Fprintln(s.Out, "regen", version.String())
	return nil
}
