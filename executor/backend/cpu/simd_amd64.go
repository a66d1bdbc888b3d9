//go:build !purego

package cpu

import "golang.org/x/sys/cpu"

// The AVX2 + FMA kernels of simd_amd64.s (see simdKernels for what each
// computes).

//go:noescape
func logitsAVX2(q *float64, d int, k *float32, ngroups int, kc, qn *float64, invV float64, l *float64)

//go:noescape
func softmaxAVX2(l *float64, nk int, sum *float64)

//go:noescape
func pvAVX2(p *float64, nk int, v *float64, ldv int, acc *float64)

var avx2Kernels = &simdKernels{name: "avx2", logits: logitsAVX2, softmax: softmaxAVX2, pv: pvAVX2}

// detectSIMD returns the best kernels this CPU (and OS) supports, or nil.
func detectSIMD() *simdKernels {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return avx2Kernels
	}
	return nil
}

// allSIMD lists every kernel set this CPU can run, for the tests that hold
// each to the pure-Go bits.
func allSIMD() []*simdKernels {
	var ks []*simdKernels
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernels)
	}
	return ks
}
