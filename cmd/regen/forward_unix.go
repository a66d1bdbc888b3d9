//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// forward replaces this process with the full build running args: same
// process, standard streams, environment, signals and exit status.
func forward(full string, args []string) error {
	argv := append([]string{os.Args[0]}, args...)
	if err := syscall.Exec(full, argv, os.Environ()); err != nil {
		return fmt.Errorf("run %s: %w", full, err)
	}
	return nil
}
