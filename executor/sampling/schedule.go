package sampling

import (
	"fmt"
	"math"

	"github.com/regen-dev/regen/internal/pmath"
)

// schedulerFunc computes a schedule of steps (+ final 0 where ComfyUI
// appends one) from an ascending sigma table.
type schedulerFunc func(table []float64, steps int) []float64

type schedulerEntry struct {
	name string
	fn   schedulerFunc
}

// schedulers is ComfyUI's SCHEDULER_HANDLERS, in its order.
var schedulers = []schedulerEntry{
	{"simple", simpleSchedule},
	{"sgm_uniform", func(t []float64, n int) []float64 { return normalSchedule(t, n, true) }},
	{"karras", func(t []float64, n int) []float64 { return KarrasSigmas(n, sigmaMin(t), sigmaMax(t), 7) }},
	{"exponential", func(t []float64, n int) []float64 { return exponentialSigmas(n, sigmaMin(t), sigmaMax(t)) }},
	{"ddim_uniform", ddimUniformSchedule},
	{"beta", func(t []float64, n int) []float64 { return betaSchedule(t, n, 0.6, 0.6) }},
	{"normal", func(t []float64, n int) []float64 { return normalSchedule(t, n, false) }},
	{"linear_quadratic", linearQuadraticSchedule},
	{"kl_optimal", func(t []float64, n int) []float64 { return klOptimalSigmas(n, sigmaMin(t), sigmaMax(t)) }},
}

// SchedulerNames returns the implemented schedulers in ComfyUI's order
// (comfy/samplers.py SCHEDULER_HANDLERS).
func SchedulerNames() []string {
	out := make([]string, len(schedulers))
	for i, s := range schedulers {
		out[i] = s.name
	}
	return out
}

// Schedule is comfy/samplers.py calculate_sigmas: the sigma schedule named
// name for steps steps over an ascending sigma table (e.g. a model's
// SigmaTable or DefaultTable). The result runs from high to low and ends in
// 0; every value is rounded to float32 as ComfyUI's FloatTensor holds it.
func Schedule(name string, table []float64, steps int) ([]float64, error) {
	if err := checkTable(table); err != nil {
		return nil, fmt.Errorf("schedule %s: %w", name, err)
	}
	if steps < 1 {
		return nil, fmt.Errorf("schedule %s: steps %d, want at least 1", name, steps)
	}
	for _, s := range schedulers {
		if s.name == name {
			return toFloat32s(s.fn(table, steps)), nil
		}
	}
	return nil, fmt.Errorf("schedule: unknown scheduler %q", name)
}

func toFloat32s(s []float64) []float64 {
	for i, v := range s {
		s[i] = float64(float32(v))
	}
	return s
}

// simpleSchedule: σ_k = table[len−1−int(k·len/N)], then 0.
func simpleSchedule(table []float64, steps int) []float64 {
	ss := float64(len(table)) / float64(steps)
	out := make([]float64, 0, steps+1)
	for k := 0; k < steps; k++ {
		out = append(out, table[len(table)-1-int(float64(k)*ss)])
	}
	return append(out, 0)
}

// normalSchedule is normal_scheduler: timesteps linearly spaced from
// timestep(σ_max) to timestep(σ_min) (N points, or N+1 with the last dropped
// for sgm_uniform), mapped through sigma(t), then 0. When sigma(end) is
// (within 1e−5) zero, N+1 points are used and no 0 is appended.
func normalSchedule(table []float64, steps int, sgm bool) []float64 {
	start := float64(timestepOf(table, sigmaMax(table)))
	end := float64(timestepOf(table, sigmaMin(table)))
	appendZero := true
	var ts []float64
	if sgm {
		ts = linspace(start, end, steps+1)[:steps]
	} else {
		if isClose(sigmaAt(table, end), 0, 0, 1e-5) {
			steps++
			appendZero = false
		}
		ts = linspace(start, end, steps)
	}
	out := make([]float64, 0, len(ts)+1)
	for _, t := range ts {
		out = append(out, sigmaAt(table, float64(float32(t))))
	}
	if appendZero {
		out = append(out, 0)
	}
	return out
}

// KarrasSigmas is get_sigmas_karras (Karras et al. 2022, eq. 5):
// (σ_max^{1/ρ} + k/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for k < n, then 0,
// in float64 (Schedule and the KarrasScheduler node round to float32).
func KarrasSigmas(n int, sMin, sMax, rho float64) []float64 {
	ramp := linspace(0, 1, n)
	minInv, maxInv := pmath.Pow(sMin, 1/rho), pmath.Pow(sMax, 1/rho)
	out := make([]float64, 0, n+1)
	for _, r := range ramp {
		out = append(out, pmath.Pow(maxInv+float64(r*(minInv-maxInv)), rho))
	}
	return append(out, 0)
}

// exponentialSigmas is get_sigmas_exponential: exp(linspace(ln σ_max,
// ln σ_min, n)), then 0.
func exponentialSigmas(n int, sMin, sMax float64) []float64 {
	out := make([]float64, 0, n+1)
	for _, l := range linspace(pmath.Log(sMax), pmath.Log(sMin), n) {
		out = append(out, pmath.Exp(l))
	}
	return append(out, 0)
}

// ddimUniformSchedule is ddim_scheduler: table[1], table[1+ss], … with
// ss = max(len/N, 1) (integer division) while below len, a leading 0
// (unless table[1] ≈ 0, when N+1 is used instead), then reversed. When N
// does not divide len there can be more than N steps (N = 30 gives 31).
func ddimUniformSchedule(table []float64, steps int) []float64 {
	x := 1
	var out []float64
	if isClose(table[x], 0, 0, 1e-5) {
		steps++
	} else {
		out = append(out, 0)
	}
	ss := max(len(table)/steps, 1)
	for ; x < len(table); x += ss {
		out = append(out, table[x])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// betaSchedule is beta_scheduler (Lee et al. 2024, "Beta sampling is all
// you need"): t_k = rint(BetaPPF(1 − k/N; α, β)·(len−1)), σ_k = table[t_k],
// dropping repeated consecutive t (so fewer than N steps are possible),
// then 0.
func betaSchedule(table []float64, steps int, alpha, beta float64) []float64 {
	total := float64(len(table) - 1)
	out := make([]float64, 0, steps+1)
	last := -1.0
	for k := 0; k < steps; k++ {
		p := 1 - float64(k)/float64(steps)
		t := math.RoundToEven(BetaPPF(p, alpha, beta) * total)
		if t != last {
			out = append(out, table[int(t)])
		}
		last = t
	}
	return append(out, 0)
}

// linearQuadraticSchedule is linear_quadratic_schedule (from Mochi): a
// linear ramp to threshold 0.025 over the first N/2 steps then a quadratic,
// as 1 − s, scaled by σ_max; the last value is 0.
func linearQuadraticSchedule(table []float64, steps int) []float64 {
	const threshold = 0.025
	var sched []float64
	if steps == 1 {
		sched = []float64{1, 0}
	} else {
		linSteps := steps / 2
		for i := 0; i < linSteps; i++ {
			sched = append(sched, float64(i)*threshold/float64(linSteps))
		}
		diff := float64(linSteps) - float64(threshold*float64(steps))
		quadSteps := float64(steps - linSteps)
		quadCoef := diff / (float64(linSteps) * quadSteps * quadSteps)
		linCoef := threshold/float64(linSteps) - 2*diff/(quadSteps*quadSteps)
		c := float64(quadCoef * float64(linSteps*linSteps))
		for i := linSteps; i < steps; i++ {
			fi := float64(i)
			sched = append(sched, float64(quadCoef*fi*fi)+float64(linCoef*fi)+c)
		}
		sched = append(sched, 1)
		for i, v := range sched {
			sched[i] = 1 - v
		}
	}
	sMax := float64(float32(sigmaMax(table)))
	for i, v := range sched {
		sched[i] = float64(float32(v)) * sMax
	}
	return sched
}

// klOptimalSigmas is kl_optimal_scheduler (Sabour et al. 2024):
// tan(k/(n−1)·atan σ_min + (1 − k/(n−1))·atan σ_max) for k < n, then 0.
// For n = 1 ComfyUI divides 0 by 0 and yields [NaN, 0]; we return
// [σ_max, 0] instead (k/(n−1) taken as 0).
func klOptimalSigmas(n int, sMin, sMax float64) []float64 {
	out := make([]float64, 0, n+1)
	for k := 0; k < n; k++ {
		a := 0.0
		if n > 1 {
			a = float64(k) / float64(n-1)
		}
		out = append(out, pmath.Tan(float64(a*pmath.Atan(sMin))+float64((1-a)*pmath.Atan(sMax))))
	}
	return append(out, 0)
}

// linspace is torch.linspace's CPU formula: start + k·step for the first
// half, end − (n−1−k)·step for the second half.
func linspace(start, end float64, n int) []float64 {
	out := make([]float64, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float64(n-1)
	half := n / 2
	for k := 0; k < n; k++ {
		if k < half {
			out[k] = start + float64(step*float64(k))
		} else {
			out[k] = end - float64(step*float64(n-1-k))
		}
	}
	return out
}
