//go:build race

package cpu

// raceEnabled: the race detector slows the kernels ~10×.
const raceEnabled = true
