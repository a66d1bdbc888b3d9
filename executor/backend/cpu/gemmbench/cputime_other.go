//go:build !unix

package gemmbench

import "time"

// CPUTime returns 0: the process CPU time is not known on this platform.
func CPUTime() time.Duration { return 0 }
