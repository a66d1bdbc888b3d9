package app

import (
	"context"
	"fmt"
)

func workflowCommand() command {
	return command{summary: "(not yet built)", run: func(ctx context.Context, s Streams, args []string) error {
		return fmt.Errorf("workflow: not yet built")
	}}
}
