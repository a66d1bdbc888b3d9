package sampling

import (
	"fmt"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/model"
)

// DefaultTable returns the SD1.x discrete sigma table (ascending, 1000
// values): model.SD1's, exactly as ComfyUI's ModelSamplingDiscrete builds it
// (comfy/model_sampling.py _register_schedule + set_sigmas, in float64,
// stored as float32). σ_min = table[0] = 0.0291671585 and σ_max =
// table[999] = 14.6146412.
//
// The often-quoted σ_min = 0.0291675 and σ_max = 14.614642 (KarrasScheduler's
// defaults) come from k-diffusion/A1111, which cast ᾱ to float32 before
// taking σ: near ᾱ ≈ 1 that costs ~1e−5 relative. ComfyUI's own table is
// the float64 one.
func DefaultTable() []float64 { return model.SD1.Sigmas() }

// checkTable validates a sigma table (ascending, positive, ≥ 2 entries).
func checkTable(table []float64) error {
	if len(table) < 2 {
		return fmt.Errorf("sigma table has %d entries, want at least 2", len(table))
	}
	for i := 1; i < len(table); i++ {
		if !(table[i] >= table[i-1]) {
			return fmt.Errorf("sigma table is not ascending at %d", i)
		}
	}
	if !(table[0] >= 0) {
		return fmt.Errorf("sigma table has negative σ_min %g", table[0])
	}
	return nil
}

// sigmaMin and sigmaMax are ModelSamplingDiscrete.sigma_min / sigma_max.
func sigmaMin(table []float64) float64 { return table[0] }
func sigmaMax(table []float64) float64 { return table[len(table)-1] }

// timestepOf is ModelSamplingDiscrete.timestep: the index of the table entry
// nearest to σ in log space (first on ties).
func timestepOf(table []float64, sigma float64) int {
	ls := float64(float32(pmath.Log(sigma)))
	best, bestD := 0, math.Inf(1)
	for i, s := range table {
		d := math.Abs(ls - float64(float32(pmath.Log(s))))
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// sigmaAt is ModelSamplingDiscrete.sigma(t): log σ interpolated linearly
// between the neighbouring table entries of the fractional timestep t
// (clamped to [0, len−1]).
func sigmaAt(table []float64, t float64) float64 {
	t = math.Min(math.Max(t, 0), float64(len(table)-1))
	lo, hi := math.Floor(t), math.Ceil(t)
	w := t - lo
	l := float64((1-w)*pmath.Log(table[int(lo)])) + float64(w*pmath.Log(table[int(hi)]))
	return pmath.Exp(l)
}
