package app

import (
	"context"
	"fmt"
)

func inspectCommand() command {
	return command{summary: "(not yet built)", run: func(ctx context.Context, s Streams, args []string) error {
		return fmt.Errorf("inspect: not yet built")
	}}
}
