//go:build !linux

package kube

import (
	"fmt"
	"runtime"
	"syscall"
)

// procAttr starts a component in its own process group where the OS has
// them; there is no parent-death signal outside Linux.
func procAttr() *syscall.SysProcAttr { return sysProcAttrGroup() }

// unmountDetach is Linux's: a host node (the only user) runs only there.
func unmountDetach(path string) error {
	return fmt.Errorf("unmount %s: a host node needs Linux, this is %s", path, runtime.GOOS)
}
