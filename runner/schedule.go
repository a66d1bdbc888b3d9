package runner

import (
	"cmp"
	"encoding/json"
	"slices"

	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
)

// History returns the recorded replay time of a case, by case id, in
// seconds; ok is false when there is none. HistoryFromRun reads it from a
// previous run's record (results.json); a history store across runs can
// provide the same function.
type History func(id string) (seconds float64, ok bool)

// HistoryFromRun returns the replay times of the cases of a finished run
// that replayed (skipped and unplanned cases have none).
func HistoryFromRun(r *report.Run) History {
	secs := make(map[string]float64, len(r.Cases))
	for _, c := range r.Cases {
		if c.ReplaySeconds > 0 {
			secs[c.ID] = c.ReplaySeconds
		}
	}
	return func(id string) (float64, bool) {
		s, ok := secs[id]
		return s, ok
	}
}

// EstimateWork is a case's expected replay cost from its prompt alone, in
// pixel-steps: the largest image or latent any node asks for (width ×
// height × batch_size of the nodes that have them: empty latents, image
// scales, upscales) times the sampling steps of every sampler node (at
// least one). Sampling and VAE work grow with both, and the unit only has
// to order the cases of one suite. A case that will not replay (skipped, or
// not planned) costs 0.
func EstimateWork(c plan.Case) float64 {
	if c.Skip != "" || c.Err != nil {
		return 0
	}
	maxPixels, steps := 1.0, 0.0
	for _, n := range c.Prompt {
		if n == nil {
			continue
		}
		w, wok := number(n.Inputs["width"])
		h, hok := number(n.Inputs["height"])
		if wok && hok {
			b, ok := number(n.Inputs["batch_size"])
			if !ok || b < 1 {
				b = 1
			}
			maxPixels = max(maxPixels, w*h*b)
		}
		if s, ok := number(n.Inputs["steps"]); ok && s > 0 {
			steps += s
		}
	}
	return maxPixels * max(steps, 1)
}

// number reads a literal numeric input (links and strings are not).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// costs returns each case's expected replay time: the recorded one where
// hist has it, else EstimateWork scaled to seconds by the ratio of recorded
// time to estimated work over the cases that have both (without any, the
// estimates as they are: only their order matters then).
func costs(cases []plan.Case, hist History) []float64 {
	out := make([]float64, len(cases))
	known := make([]bool, len(cases))
	var secs, work float64
	for i, c := range cases {
		w := EstimateWork(c)
		out[i] = w
		if hist == nil || w == 0 {
			continue
		}
		if s, ok := hist(c.ID); ok {
			secs += s
			work += w
			out[i], known[i] = s, true
		}
	}
	if work > 0 {
		scale := secs / work
		for i := range out {
			if !known[i] {
				out[i] *= scale
			}
		}
	}
	return out
}

// dispatchOrder returns the order in which to hand the cases to the
// workers: longest expected first (ties in plan order), so that with
// several replicas the long cases start at once and the short ones fill in
// around them, and the wall time approaches the longest case rather than
// the sum of whatever queued behind it. Unless longestFirst (the runner
// sets it when more than one case is in flight: with one worker the order
// cannot change the total), the plan's order is kept.
func dispatchOrder(cases []plan.Case, longestFirst bool, hist History) []int {
	order := make([]int, len(cases))
	for i := range order {
		order[i] = i
	}
	if !longestFirst {
		return order
	}
	cost := costs(cases, hist)
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cost[b], cost[a]) })
	return order
}
