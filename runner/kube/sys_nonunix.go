//go:build !unix

package kube

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// sysProcAttrGroup: no process groups here; a child is stopped alone.
func sysProcAttrGroup() *syscall.SysProcAttr { return nil }

// killPid kills pid.
func killPid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("kill %d: %w", pid, err)
	}
	return p.Kill()
}

// pidAlive is never asked here: only a host node (Linux) sweeps leftovers.
func pidAlive(int) bool { return false }

// tryLock is a host node's machine-wide lock, which needs Linux.
func tryLock(f *os.File) (bool, error) {
	return false, fmt.Errorf("lock %s: a host node needs Linux, this is %s", f.Name(), runtime.GOOS)
}
