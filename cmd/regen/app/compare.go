package app

import (
	"context"
	"fmt"
)

func compareCommand() command {
	return command{summary: "(not yet built)", run: func(ctx context.Context, s Streams, args []string) error {
		return fmt.Errorf("compare: not yet built")
	}}
}
