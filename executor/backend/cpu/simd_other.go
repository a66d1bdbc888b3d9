//go:build (!amd64 && !arm64) || purego

package cpu

// No vector kernels on this architecture (or with -tags purego): the
// pure-Go kernels compute the same bits.

const simdBuilt = false

func detectSIMD() *simdKernels { return nil }

func allSIMD() []*simdKernels { return nil }
