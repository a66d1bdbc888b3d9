// Package backendtest is the conformance suite every backend.Backend runs:
// the CPU backend always, the CUDA backend when built with its tag.
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, cpu.New()) }
//
// It checks Attention against Reference (a naive float64 implementation of
// the formula, the oracle) on shapes that include odd sizes, one key, no
// queries, large logits, zero and nil bias, KNorm given or not; checks that
// results are bit-identical run to run and across GOMAXPROCS; that a
// cancelled or expiring context is honoured; and that malformed arguments
// are refused with an error rather than a panic.
package backendtest
