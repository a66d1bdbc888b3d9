// Package backendtest is the conformance suite every backend.Backend runs:
// the CPU backend always, the CUDA backend when built with its tag.
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, cpu.New()) }
//
// It checks Attention against Reference (a naive float64 implementation of
// the formula, the oracle) on shapes that include odd sizes, one key, no
// queries, large logits, huge biases, zero and nil bias, KNorm given or
// not, and the gmm, els and VAE shapes in small; checks that results are
// bit-identical run to run and across GOMAXPROCS; that a cancelled or
// expiring context is honoured; and that malformed arguments are refused
// with an error rather than a panic.
//
// Errors are measured as max |out − reference| / max|V|. The CPU backend
// (float64 accumulation) stays under 6e-8 except where a float32 KNorm is
// given (3.6e-7 on gmm_like). For calibration, the same kernel forced to
// accumulate dot products in float32 gave 1.7e-4 on els_like_clustered and
// 3.4e-2 on offset_cancellation (‖q‖² ≈ 64·D ≫ ‖q − k‖², where the
// expansion ‖q‖² + ‖k‖² − 2⟨q,k⟩ cancels): a backend built like that needs
// Options{Tol: 5e-4, Skip: []string{"offset_cancellation"}}, and its
// results will differ visibly from the CPU's where distances are small
// against norms (late sampling steps).
package backendtest
