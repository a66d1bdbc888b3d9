package backendtest

import (
	"math"

	"github.com/regen-dev/regen/executor/backend"
)

// Reference computes a.Out naively in float64, with the distances taken
// directly as Σ_t (q_t − k_t)² (no cancellation) and math.Exp: the oracle
// the backends are checked against. It ignores a.KNorm and does no
// validation. It is slow (one pass over K and V per query) and meant for
// tests and benchmarks only.
func Reference(a *backend.AttentionArgs) {
	logits := make([]float64, a.NK)
	acc := make([]float64, a.DV)
	for i := 0; i < a.NQ; i++ {
		q := a.Q[i*a.D : (i+1)*a.D]
		maxl := math.Inf(-1)
		for j := 0; j < a.NK; j++ {
			k := a.K[j*a.D : (j+1)*a.D]
			var d2 float64
			for t := range q {
				d := float64(q[t]) - float64(k[t])
				d2 += d * d
			}
			l := -d2 / (2 * float64(a.Variance))
			if a.Bias != nil {
				l += float64(a.Bias[j])
			}
			logits[j] = l
			maxl = max(maxl, l)
		}
		clear(acc)
		var sum float64
		for j := 0; j < a.NK; j++ {
			w := math.Exp(logits[j] - maxl)
			sum += w
			v := a.V[j*a.DV : (j+1)*a.DV]
			for t := range acc {
				acc[t] += w * float64(v[t])
			}
		}
		out := a.Out[i*a.DV : (i+1)*a.DV]
		for t := range out {
			out[t] = float32(acc[t] / sum)
		}
	}
}
