package sampling

import "fmt"

// discardPenultimate lists KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS.
var discardPenultimate = map[string]bool{
	"dpm_2": true, "dpm_2_ancestral": true, "uni_pc": true, "uni_pc_bh2": true,
}

// DiscardsPenultimate reports whether KSampler computes steps+1 sigmas for
// sampler and drops the second-to-last one.
func DiscardsPenultimate(sampler string) bool { return discardPenultimate[sampler] }

// KSamplerSigmas is comfy.samplers.KSampler's set_steps + calculate_sigmas:
// the schedule for steps steps, with the penultimate sigma dropped for the
// samplers in DiscardsPenultimate, and for denoise < 1 (> 0.9999 counts as
// 1) the last steps+1 sigmas of a schedule of int(steps/denoise) steps.
// denoise ≤ 0 gives an empty schedule (the sampler then returns its input).
func KSamplerSigmas(table []float64, scheduler, sampler string, steps int, denoise float64) ([]float64, error) {
	calc := func(n int) ([]float64, error) {
		discard := DiscardsPenultimate(sampler)
		if discard {
			n++
		}
		s, err := Schedule(scheduler, table, n)
		if err != nil {
			return nil, err
		}
		if discard && len(s) >= 2 {
			s = append(s[:len(s)-2:len(s)-2], s[len(s)-1])
		}
		return s, nil
	}
	if denoise > 0.9999 {
		return calc(steps)
	}
	if denoise <= 0 {
		return []float64{}, nil
	}
	total := int(float64(steps) / denoise)
	s, err := calc(total)
	if err != nil {
		return nil, err
	}
	return lastN(s, steps+1), nil
}

// BasicSchedulerSigmas is the BasicScheduler node: like KSamplerSigmas but
// without the penultimate-sigma rule.
func BasicSchedulerSigmas(table []float64, scheduler string, steps int, denoise float64) ([]float64, error) {
	total := steps
	if denoise < 1 {
		if denoise <= 0 {
			return []float64{}, nil
		}
		total = int(float64(steps) / denoise)
	}
	s, err := Schedule(scheduler, table, total)
	if err != nil {
		return nil, err
	}
	return lastN(s, steps+1), nil
}

func lastN(s []float64, n int) []float64 {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return append([]float64(nil), s...)
}

// StepRange applies KSampler.sample's start/last step rules (used by
// KSamplerAdvanced). last < 0 or start < 0 means "not given". If last <
// len(sigmas)−1 the schedule is cut to sigmas[:last+1], and with
// forceFullDenoise its final sigma is set to 0. Then, if start <
// len(sigmas)−1, the schedule becomes sigmas[start:]; otherwise skip is
// true and the caller returns the input latent unchanged.
func StepRange(sigmas []float64, start, last int, forceFullDenoise bool) (out []float64, skip bool) {
	out = append([]float64(nil), sigmas...)
	if last >= 0 && last < len(out)-1 {
		out = out[:last+1]
		if forceFullDenoise {
			out[len(out)-1] = 0
		}
	}
	if start >= 0 {
		if start < len(out)-1 {
			out = out[start:]
		} else {
			return nil, true
		}
	}
	return out, false
}

// validateSigmas checks a schedule handed to a sampler.
func validateSigmas(sigmas []float64) error {
	for i, s := range sigmas {
		if s < 0 || s != s {
			return fmt.Errorf("sigma %d is %g", i, s)
		}
	}
	return nil
}
