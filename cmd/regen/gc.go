package main

import (
	"os"
	"runtime/debug"
)

// collectLate makes `regen compare` collect garbage only once its heap
// passes 1 GiB. A compare is a short-lived process that allocates two
// images and a few statistics (about 12 MB for a 1024² pair): with the
// default GOGC its first collection starts at 4 MB, in the middle of
// decoding, and the collections cost ≈ 10 % of its CPU time for memory it
// frees at exit anyway. GOGC or GOMEMLIMIT in the environment win.
func collectLate(args []string) {
	if len(args) == 0 || args[0] != "compare" || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(1 << 30)
}
