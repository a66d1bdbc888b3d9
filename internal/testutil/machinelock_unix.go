//go:build unix

package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// MachineLockPath is the file the suites that change this machine (a host
// node, Docker and a kind node) lock while they run: go test runs packages in
// parallel, and each suite checks that the machine afterwards equals the
// machine before — a check the other suite's bring-up would break.
var MachineLockPath = filepath.Join(os.TempDir(), "regen-machine-suites.lock")

// LockMachine blocks until this process holds the machine lock and returns
// its release. The lock is an flock: a killed test process drops it.
func LockMachine() (release func(), err error) {
	f, err := os.OpenFile(MachineLockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open machine lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock machine: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
