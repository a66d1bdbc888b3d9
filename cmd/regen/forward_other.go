//go:build !unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// forward runs the full build with args, with this process's streams and
// environment, and exits with its status.
func forward(full string, args []string) error {
	cmd := exec.Command(full, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &ee):
		os.Exit(ee.ExitCode())
	}
	return fmt.Errorf("run %s: %w", full, err)
}
