package backendtest

import (
	"math"
	"testing"

	"github.com/regen-dev/regen/executor/backend"
)

// float32Accumulation computes a.Out like the CPU backend (the expansion
// ‖q‖² + ‖k‖² − 2⟨q,k⟩, a two-pass softmax with float32 weights and a float64
// sum, a float64 weighted sum) but accumulates the norms and dot products in
// float32: the kind of backend the package documentation calibrates Options
// for.
func float32Accumulation(a *backend.AttentionArgs) {
	v := float64(a.Variance)
	kn := make([]float32, a.NK)
	for j := range kn {
		kn[j] = dot32(a.K[j*a.D:(j+1)*a.D], a.K[j*a.D:(j+1)*a.D])
	}
	logits := make([]float64, a.NK)
	acc := make([]float64, a.DV)
	for i := 0; i < a.NQ; i++ {
		q := a.Q[i*a.D : (i+1)*a.D]
		qn := dot32(q, q)
		maxl := math.Inf(-1)
		for j := range logits {
			qk := dot32(q, a.K[j*a.D:(j+1)*a.D])
			l := float64(float32(2*qk-qn-kn[j])) / (2 * v)
			if a.Bias != nil {
				l += float64(a.Bias[j])
			}
			logits[j] = l
			maxl = max(maxl, l)
		}
		clear(acc)
		var sum float64
		for j, l := range logits {
			w := float64(float32(math.Exp(l - maxl)))
			sum += w
			for t := range acc {
				acc[t] += w * float64(a.V[j*a.DV+t])
			}
		}
		for t := range acc {
			a.Out[i*a.DV+t] = float32(acc[t] / sum)
		}
	}
}

func dot32(x, y []float32) float32 {
	var s float32
	for t := range x {
		s += float32(x[t] * y[t])
	}
	return s
}

// TestFloat32AccumulationCalibration reproduces the package documentation's
// calibration: accumulating dot products in float32 fails
// offset_cancellation by orders of magnitude, and els_like_clustered by more
// than DefaultTol. Run with -v to see every case's error.
func TestFloat32AccumulationCalibration(t *testing.T) {
	t.Parallel()
	errs := map[string]float64{}
	for _, c := range Cases() {
		a, want := c.Args(), c.Args()
		Reference(want)
		float32Accumulation(a)
		e, err := MaxError(a.Out, want.Out, a.V)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		errs[c.Name] = e
		t.Logf("%-22s max error %.3g", c.Name, e)
	}
	if e := errs["offset_cancellation"]; e < 1e-2 {
		t.Errorf("offset_cancellation: float32 accumulation error %.3g, want ≥ 1e-2", e)
	}
	if e := errs["els_like_clustered"]; e < DefaultTol {
		t.Errorf("els_like_clustered: float32 accumulation error %.3g, want > DefaultTol %.3g", e, DefaultTol)
	}
}
