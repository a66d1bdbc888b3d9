//go:build !unix

package cpu

import "time"

// cpuTime is not measured here; the CPU-time metric is then left out.
func cpuTime() time.Duration { return 0 }
