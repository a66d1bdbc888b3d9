//go:build unix

package kube

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttrGroup puts a child in its own process group.
func sysProcAttrGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killPid sends SIGKILL to pid.
func killPid(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// pidAlive says whether pid is still a process.
func pidAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// tryLock takes an exclusive flock on f without waiting; busy when another
// process holds it.
func tryLock(f *os.File) (busy bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}
