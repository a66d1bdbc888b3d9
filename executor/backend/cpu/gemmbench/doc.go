// Package gemmbench is the baseline regen's benchmarks measure compute
// kernels against: a plain blocked float32 GEMM written in the same
// pure-Go scalar style as the CPU attention kernel (the speed of light
// for such code on the machine at hand), plus helpers that build and time
// a list of GEMMs of a given shape mix or FLOP count.
//
// FLOPs are counted as 2·M·N·K per product C[M×N] = A[M×K]·B[N×K]ᵀ; an
// attention call of NQ queries over NK keys of width D with values of
// width DV is the pair Q·Kᵀ then S·V, 2·NQ·NK·(D+DV) FLOPs.
//
// Nothing outside benchmarks and their tests uses this package.
package gemmbench
