package model

import "math"

// Schedule is a discrete DDPM noise schedule with scaled-linear betas.
type Schedule struct {
	LinearStart float64 `json:"linear_start"`
	LinearEnd   float64 `json:"linear_end"`
	Timesteps   int     `json:"timesteps"`
}

// SD1 is Stable Diffusion 1.x's schedule.
var SD1 = Schedule{LinearStart: 0.00085, LinearEnd: 0.012, Timesteps: 1000}

// Sigmas returns the σ table, ascending, as ComfyUI's ModelSamplingDiscrete
// computes it: betas = linspace(√start, √end, T)² in float64 (torch's
// two-sided linspace), ᾱ = cumprod(1−β), σ = √((1−ᾱ)/ᾱ), stored as float32.
func (s Schedule) Sigmas() []float64 {
	n := s.Timesteps
	a, b := math.Sqrt(s.LinearStart), math.Sqrt(s.LinearEnd)
	step := (b - a) / float64(n-1)
	sig := make([]float64, n)
	ac := 1.0
	for i := 0; i < n; i++ {
		var v float64
		if i < n/2 {
			v = a + float64(step*float64(i))
		} else {
			v = b - float64(step*float64(n-1-i))
		}
		ac = float64(ac * (1 - float64(v*v)))
		sig[i] = float64(float32(math.Sqrt((1 - ac) / ac)))
	}
	return sig
}
