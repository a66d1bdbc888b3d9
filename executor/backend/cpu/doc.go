// Package cpu implements backend.Backend on the CPU in pure Go: a blocked,
// cache-friendly attention kernel, parallel over the machine's cores and
// bit-deterministic.
//
// # Numerics
//
// For each query i, Attention computes
//
//	out_i = Σ_j softmax_j(−‖q_i − k_j‖²/(2v) + b_j) · V_j
//
// with the distances expanded as ‖q‖² + ‖k‖² − 2⟨q,k⟩, so that the heavy
// work is two matrix products (Q·Kᵀ, then P·V). Inputs and outputs are
// float32; every product of two float32 values is exact in float64, so all
// sums are accumulated in float64 and the results are rounded once, to
// float32, at the end. That keeps the cancellation in the expansion harmless
// (the conformance case "offset_cancellation", ‖q‖² ≈ 64·D ≫ ‖q − k‖², has
// output error 1.5e-8 here and 3.6e-2 with float32 accumulation, see
// backendtest), and cost 5–15% against float32 accumulation in scalar Go
// when measured once with a variant that is not kept. The softmax is two-pass (max,
// then exp), with our own exponential (table + polynomial, within one
// float32 ulp), weights rounded to float32 and their sum kept in float64.
//
// # Determinism
//
// Every output value goes through the same operations in the same order,
// whichever tile kernel computes it, however the work is blocked and split,
// and however many goroutines run it: each pair's dot product sums t = 0…D−1
// in one accumulator, each softmax row runs in order, each weighted sum
// adds j = 0…NK−1 in one accumulator. Nothing depends on timing (no atomics,
// no shared reductions). Products are exact, so a fused multiply-add rounds
// exactly like a multiply and an add: builds with GOAMD64=v3 (or on arm64)
// use FMA and run faster, with the same bits. No product whose rounding
// matters is left to the compiler to fuse (explicit conversions), and
// math.Exp, which has per-architecture assembly, is not used, so the bits
// do not depend on the architecture either. testdata/bits.golden pins them.
//
// # Vector kernels
//
// On amd64 CPUs with AVX2 and FMA (simd_amd64.s, chosen at run time
// through golang.org/x/sys/cpu) and on every arm64 CPU (NEON,
// simd_arm64.s), the many-queries case runs on Go assembly; -tags purego
// or another GOARCH keeps the pure-Go kernels. Lanes are query rows, so
// each lane does exactly the scalar sequence above for its row; the
// few-queries logits and the key norms use lanes = keys, and the
// few-queries weighted sums lanes = output columns, each lane again in
// the scalar order. With many queries (NQ ≥ 256) K is widened once and
// the weighted sums run by blocks of keys across all of a task's panels.
// The bits are the pure-Go path's (simd.go has the
// argument; TestSIMDMatchesPureGo and the kernel tests check it on random
// and adversarial inputs, TestGoldenBits pins it). The arm64 kernels are
// proven under qemu-user: hack/test-arm64.sh (make test-arm64) runs these
// tests as an arm64 binary, so the same pinned bits hold there.
//
// # Parallelism
//
// Many queries (els, VAE decode): blocks of query rows, one goroutine per
// block from logits to output. Few queries (< 16, gmm): the logits are split
// by keys, then the weighted sum by output columns. ctx is checked before
// every block.
//
// # Speed
//
//	go test -run '^$' -bench . -benchtime 3x ./executor/backend/cpu/
//
// reports GFLOP/s (2·NQ·NK·(D+DV) per call) for the model's gmm, els and
// VAE shapes next to a plain blocked float32 GEMM of the same shapes and the
// naive float64 reference, and GFLOP per CPU-second (per busy core), which
// stays meaningful on a shared machine. Measured 2026-11-29 on 2 cores of an
// Intel Xeon (Sapphire Rapids class), GOMAXPROCS=2, median of 3 runs, wall
// GFLOP/s (GEMM alongside; naive is single-threaded):
//
//	shape     GOAMD64=v1: fast  gemm  naive    GOAMD64=v3: fast  gemm  naive
//	gmm32                 8.2   8.6   3.0                  8.7   8.7   2.3
//	gmm64                10.4   7.0   2.6                 10.9   6.6   2.0
//	els_p3                9.8  15.6   2.0                 11.6  21.4   1.8
//	els_p5               12.5  15.4   2.6                 18.5  18.4   1.8
//	els_tile              8.7  11.2   2.5                 11.3  16.2   1.9
//	vae                  13.4  15.0   2.7                 21.1  25.9   2.6
//
// The gap to the GEMM on els is the per-pair work it does not count (the
// exponential, the logit, the max): D+DV = 40 flops per pair at 3×3 patches.
package cpu
