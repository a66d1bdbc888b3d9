// Package backendtest is the conformance suite every backend.Backend runs:
// the CPU backend always, the CUDA backend when built with its tag.
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, cpu.New()) }
//
// It checks Attention against Reference (a naive float64 implementation of
// the formula, the oracle) on shapes that include odd sizes, one key, no
// queries, large logits, huge biases, zero and nil bias, KNorm or KNorm64
// given or not, and the gmm, els and VAE shapes in small; checks that results are
// bit-identical run to run and across GOMAXPROCS; that a cancelled or
// expiring context is honoured; and that malformed arguments are refused
// with an error rather than a panic.
//
// Errors are measured as max |out − reference| / max|V|. The CPU backend
// (float64 accumulation) stays at about 6e-8 except on gmm_like, where a
// float32 KNorm is given (3.6e-7; go test -v -run TestConformance/accuracy
// ./executor/backend/cpu/ logs every case). For calibration, the same
// algorithm accumulating dot products in float32 gives 1.8e-4 on
// els_like_clustered and 3.6e-2 on offset_cancellation (‖q‖² ≈ 64·D ≫
// ‖q − k‖², where the expansion ‖q‖² + ‖k‖² − 2⟨q,k⟩ cancels; go test -v
// -run TestFloat32AccumulationCalibration ./executor/backend/backendtest/):
// a backend built like that needs
// Options{Tol: 5e-4, Skip: []string{"offset_cancellation"}}, and its
// results will differ visibly from the CPU's where distances are small
// against norms (late sampling steps).
package backendtest
