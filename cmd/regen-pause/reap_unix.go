//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

func stopSignals() []os.Signal  { return []os.Signal{syscall.SIGINT, syscall.SIGTERM} }
func childSignals() []os.Signal { return []os.Signal{syscall.SIGCHLD} }

// reapAll collects every exited child without blocking and returns how many
// it reaped. SIGCHLDs coalesce, so one signal may stand for several children.
func reapAll() int {
	n := 0
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return n
		}
		n++
	}
}
