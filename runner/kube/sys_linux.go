package kube

import "syscall"

// procAttr starts a component in its own process group, killed by the
// kernel when the thread that forked it exits (see execCmd.Start).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// unmountDetach lazily detaches the mount at path.
func unmountDetach(path string) error { return syscall.Unmount(path, syscall.MNT_DETACH) }
