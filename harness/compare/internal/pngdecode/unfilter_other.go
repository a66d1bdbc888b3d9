//go:build !amd64 || purego

package pngdecode

// No vector kernels on this architecture (or with -tags purego): every
// row is unfiltered by the pure-Go path.

const simdBuilt = false

func allKernels() []*rowKernels { return nil }
