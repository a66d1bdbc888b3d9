//go:build !purego

package cpu

import "golang.org/x/sys/cpu"

// The AVX2 + FMA kernels of simd_amd64.s (see simdKernels for what each
// computes).

//go:noescape
func logitsAVX2(q *float64, d int, k *float64, ngroups int, kc, qn *float64, invV float64, l *float64)

//go:noescape
func logitsAVX512(q *float64, d int, k *float64, ngroups int, kc, qn *float64, invV float64, l *float64)

//go:noescape
func logits32AVX2(q *float64, d int, k *float32, ngroups int, kc, qn *float64, invV float64, l *float64)

//go:noescape
func logits32AVX512(q *float64, d int, k *float32, ngroups int, kc, qn *float64, invV float64, l *float64)

//go:noescape
func softmaxAVX2(l *float64, nk int, sum *float64)

//go:noescape
func pvAVX2(p *float64, nk int, v *float64, ldv int, acc *float64)

//go:noescape
func dotsAVX2(q0, q1 *float64, k *float32, ldk int, n int, acc *[16]float64)

//go:noescape
func normsAVX2(k *float32, ldk int, n int, acc *[8]float64)

//go:noescape
func axpy2AVX2(p0, p1 float64, v *float32, n int, o0, o1 *float64)

//go:noescape
func axpy4AVX2(p *[4]float64, v *float32, n int, o0, o1, o2, o3 *float64)

var (
	avx2Kernels = &simdKernels{name: "avx2", keys: 4, logits: logitsAVX2, logits32: logits32AVX2, softmax: softmaxAVX2, pv: pvAVX2, axpy2: axpy2AVX2, axpy4: axpy4AVX2, dots: dotsAVX2, norms: normsAVX2}
	// AVX-512 logits: 8 keys per pass, each key value broadcast by the
	// FMA itself (logits32: widened and broadcast by one instruction); the
	// other kernels are AVX2's. Tested and
	// benchmarked (BenchmarkSIMDKernels) but not chosen by detectSIMD: on
	// the AMD EPYC (Zen 4) measured they ran no faster than AVX2's.
	avx512Kernels = &simdKernels{name: "avx512", keys: 8, logits: logitsAVX512, logits32: logits32AVX512, softmax: softmaxAVX2, pv: pvAVX2, axpy2: axpy2AVX2, axpy4: axpy4AVX2, dots: dotsAVX2, norms: normsAVX2}
)

func hasAVX2() bool   { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }
func hasAVX512() bool { return hasAVX2() && cpu.X86.HasAVX512F }

// simdBuilt says that this build has vector kernels.
const simdBuilt = true

// detectSIMD returns the best kernels this CPU (and OS) supports, or nil.
func detectSIMD() *simdKernels {
	if hasAVX2() {
		return avx2Kernels
	}
	return nil
}

// allSIMD lists every kernel set this CPU can run, for the tests that hold
// each to the pure-Go bits.
func allSIMD() []*simdKernels {
	var ks []*simdKernels
	if hasAVX2() {
		ks = append(ks, avx2Kernels)
	}
	if hasAVX512() {
		ks = append(ks, avx512Kernels)
	}
	return ks
}
