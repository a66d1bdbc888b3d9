// Package attnbench measures regen's CPU attention kernel against gonum's
// pure-Go blas32.Gemm and, with -tags openblas (cgo, Debian's
// libopenblas-dev), OpenBLAS's cblas_sgemm, on the model's attention
// shapes: the same two products (Q·Kᵀ, then S·V) and FLOP count,
// 2·NQ·NK·(D+DV) per call. It is its own module so that regen's go.mod
// does not gain gonum; see run.sh for the side-by-side run.
package attnbench

// sgemm computes C[m×n] = A[m×k]·B[n×k]ᵀ (both row-major) with one
// implementation.
type sgemm func(m, n, k int, a, b, c []float32)
