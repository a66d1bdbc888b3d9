//go:build unix

package bisect

import "syscall"

// groupAttr starts the executor's shell in its own process group, so that
// Close stops the shell and everything it started.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends sig to the process group pgid.
func signalGroup(pgid int, sig syscall.Signal) error { return syscall.Kill(-pgid, sig) }
