//go:build unix

package gemmbench

import (
	"syscall"
	"time"
)

// CPUTime returns the user+system CPU time of the process so far, or 0
// where it is unknown. Rates per CPU-second stay meaningful on a loaded
// machine, where wall-clock rates swing with the other processes.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
