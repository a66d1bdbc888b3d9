// Package cpu implements backend.Backend on the CPU: blocked, cache-friendly,
// parallel over the machine's cores and bit-deterministic.
package cpu

import (
	"context"
	"math"

	"github.com/regen-dev/regen/executor/backend"
)

var _ backend.Backend = (*Backend)(nil)

// Backend is the CPU backend.
type Backend struct{}

// New returns a CPU backend.
func New() *Backend { return &Backend{} }

// Name returns "cpu".
func (b *Backend) Name() string { return "cpu" }

// Fingerprint describes the CPU environment.
func (b *Backend) Fingerprint() backend.Fingerprint {
	return backend.Fingerprint{Backend: "cpu", Device: "cpu", Precision: "fp32", Class: "cpu"}
}

// Close releases nothing.
func (b *Backend) Close() error { return nil }

// Attention computes the primitive naively (reference implementation; to be
// replaced by the blocked kernel).
func (b *Backend) Attention(ctx context.Context, a *backend.AttentionArgs) error {
	logits := make([]float64, a.NK)
	for i := 0; i < a.NQ; i++ {
		q := a.Q[i*a.D : (i+1)*a.D]
		maxl := math.Inf(-1)
		for j := 0; j < a.NK; j++ {
			k := a.K[j*a.D : (j+1)*a.D]
			var d2 float64
			for t := range q {
				d := float64(q[t] - k[t])
				d2 += d * d
			}
			l := -d2 / (2 * float64(a.Variance))
			if a.Bias != nil {
				l += float64(a.Bias[j])
			}
			logits[j] = l
			if l > maxl {
				maxl = l
			}
		}
		out := a.Out[i*a.DV : (i+1)*a.DV]
		acc := make([]float64, a.DV)
		var sum float64
		for j := 0; j < a.NK; j++ {
			w := math.Exp(logits[j] - maxl)
			sum += w
			v := a.V[j*a.DV : (j+1)*a.DV]
			for t := range acc {
				acc[t] += w * float64(v[t])
			}
		}
		for t := range out {
			out[t] = float32(acc[t] / sum)
		}
	}
	return nil
}
