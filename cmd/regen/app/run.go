package app

import (
	"context"
	"fmt"
)

func runCommand() command {
	return command{summary: "(not yet built)", run: func(ctx context.Context, s Streams, args []string) error {
		return fmt.Errorf("run: not yet built")
	}}
}
