package app

import (
	"context"
	"fmt"
)

func goldenCommand() command {
	return command{summary: "(not yet built)", run: func(ctx context.Context, s Streams, args []string) error {
		return fmt.Errorf("golden: not yet built")
	}}
}
