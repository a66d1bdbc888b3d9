//go:build !purego

package cpu

// The NEON kernels of simd_arm64.s (see simdKernels for what each
// computes). Advanced SIMD is part of every arm64 CPU Go runs on, so they
// are always used.

//go:noescape
func logitsNEON(q *float64, d int, k *float64, ngroups int, kc, qn *float64, invV float64, l *float64)

//go:noescape
func logits32NEON(q *float64, d int, k *float32, ngroups int, kc, qn *float64, invV float64, l *float64)

//go:noescape
func softmaxNEON(l *float64, nk int, sum *float64)

//go:noescape
func pvNEON(p *float64, nk int, v *float64, ldv int, acc *float64)

//go:noescape
func axpy2NEON(p0, p1 float64, v *float32, n int, o0, o1 *float64)

//go:noescape
func axpy4NEON(p *[4]float64, v *float32, n int, o0, o1, o2, o3 *float64)

//go:noescape
func dotsNEON(q0, q1 *float64, k *float32, ldk int, n int, acc *[16]float64)

//go:noescape
func normsNEON(k *float32, ldk int, n int, acc *[8]float64)

var neonKernels = &simdKernels{name: "neon", keys: 4, logits: logitsNEON, logits32: logits32NEON, softmax: softmaxNEON, pv: pvNEON, axpy2: axpy2NEON, axpy4: axpy4NEON, dots: dotsNEON, norms: normsNEON}

// simdBuilt says that this build has vector kernels.
const simdBuilt = true

// detectSIMD returns the NEON kernels: every arm64 CPU has them.
func detectSIMD() *simdKernels { return neonKernels }

// allSIMD lists every kernel set this CPU can run, for the tests that hold
// each to the pure-Go bits.
func allSIMD() []*simdKernels { return []*simdKernels{neonKernels} }
