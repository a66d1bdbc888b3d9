//go:build !unix

package bisect

import (
	"fmt"
	"os"
	"syscall"
)

// groupAttr: no process groups here; Close stops the shell alone.
func groupAttr() *syscall.SysProcAttr { return nil }

// signalGroup kills process pid whatever sig (there is no SIGTERM to send).
func signalGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("stop executor %d: %w", pid, err)
	}
	return p.Kill()
}
