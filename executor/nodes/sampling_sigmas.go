package nodes

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/sampling"
)

// More of comfy_extras/nodes_custom_sampler.py: the parametric schedulers
// and the SIGMAS helpers. Each is a small function node.

// smpFuncNode is a node defined by its spec and a function.
type smpFuncNode struct {
	spec node.Spec
	fn   func(in map[string]any) ([]any, error)
}

func (n smpFuncNode) Spec() node.Spec { return n.spec }

func (n smpFuncNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	out, err := n.fn(in)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: out}, nil
}

// smpFloats reads FLOAT inputs by name.
func smpFloats(in map[string]any, names ...string) ([]float64, error) {
	out := make([]float64, len(names))
	for i, n := range names {
		v, err := node.Float(in, n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func smpStepsIn(in map[string]any, maxSteps int64) (int, error) {
	s, err := node.Int(in, "steps")
	if err != nil {
		return 0, err
	}
	if s < 1 || s > maxSteps {
		return 0, fmt.Errorf("input steps: %d out of range 1..%d", s, maxSteps)
	}
	return int(s), nil
}

func smpFloatIn(name string, def, lo, hi, step float64) node.Input {
	return node.Input{Name: name, Type: node.TypeFloat, Default: def, Min: node.F(lo), Max: node.F(hi), Step: node.F(step)}
}

func smpSigmasOut(names ...string) []node.Output {
	if len(names) == 0 {
		return []node.Output{{Type: sampling.TypeSigmas}}
	}
	var out []node.Output
	for _, n := range names {
		out = append(out, node.Output{Type: sampling.TypeSigmas, Name: n})
	}
	return out
}

func smpSigmasSpec(name, sub string, inputs []node.Input, outputs []node.Output) node.Spec {
	return node.Spec{Name: name, DisplayName: name, Category: "sampling/custom_sampling/" + sub,
		Module: smpCustomModule, Inputs: inputs, Outputs: outputs}
}

// smpParamScheduler is a scheduler node of steps and FLOAT parameters:
// sigmas gets the steps and the parameters' values in params' order.
func smpParamScheduler(name string, steps node.Input, params []node.Input, sigmas func(n int, v []float64) []float64) node.Node {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return smpFuncNode{smpSigmasSpec(name, "schedulers", append([]node.Input{steps}, params...), smpSigmasOut()),
		func(in map[string]any) ([]any, error) {
			n, err := smpStepsIn(in, 10000)
			if err != nil {
				return nil, err
			}
			v, err := smpFloats(in, names...)
			if err != nil {
				return nil, err
			}
			return []any{sampling.Sigmas(sigmas(n, v))}, nil
		}}
}

// smpSigmaNodes returns the extra scheduler and sigma nodes.
func smpSigmaNodes() []node.Node {
	stepsIn := node.Input{Name: "steps", Type: node.TypeInt, Default: int64(20), Min: node.F(1), Max: node.F(10000)}
	sMax := smpFloatIn("sigma_max", 14.614642, 0, 5000, 0.01)
	sMin := smpFloatIn("sigma_min", 0.0291675, 0, 5000, 0.01)
	sigmasIn := node.Input{Name: "sigmas", Type: sampling.TypeSigmas}
	return []node.Node{
		smpParamScheduler("ExponentialScheduler", stepsIn, []node.Input{sMax, sMin},
			func(n int, v []float64) []float64 { return sampling.ExponentialSigmas(n, v[1], v[0]) }),
		smpParamScheduler("PolyexponentialScheduler", stepsIn, []node.Input{sMax, sMin, smpFloatIn("rho", 1.0, 0, 100, 0.01)},
			func(n int, v []float64) []float64 { return sampling.PolyexponentialSigmas(n, v[1], v[0], v[2]) }),
		smpParamScheduler("LaplaceScheduler", stepsIn,
			[]node.Input{sMax, sMin, smpFloatIn("mu", 0, -10, 10, 0.1), smpFloatIn("beta", 0.5, 0, 10, 0.1)},
			func(n int, v []float64) []float64 { return sampling.LaplaceSigmas(n, v[1], v[0], v[2], v[3]) }),
		smpParamScheduler("VPScheduler", stepsIn,
			[]node.Input{smpFloatIn("beta_d", 19.9, 0, 5000, 0.01), smpFloatIn("beta_min", 0.1, 0, 5000, 0.01),
				smpFloatIn("eps_s", 0.001, 0, 1, 0.0001)},
			func(n int, v []float64) []float64 { return sampling.VPSigmas(n, v[0], v[1], v[2]) }),
		smpFuncNode{smpSigmasSpec("SDTurboScheduler", "schedulers",
			[]node.Input{{Name: "model", Type: node.TypeModel},
				{Name: "steps", Type: node.TypeInt, Default: int64(1), Min: node.F(1), Max: node.F(10)},
				smpFloatIn("denoise", 1.0, 0, 1, 0.01)}, smpSigmasOut()),
			func(in map[string]any) ([]any, error) {
				m, err := node.As[node.Model](in, "model")
				if err != nil {
					return nil, err
				}
				n, err := smpStepsIn(in, 10)
				if err != nil {
					return nil, err
				}
				v, err := smpFloats(in, "denoise")
				if err != nil {
					return nil, err
				}
				return []any{sampling.Sigmas(sampling.SDTurboSigmas(m.SigmaTable(), n, v[0]))}, nil
			}},
		smpFuncNode{smpSigmasSpec("BetaSamplingScheduler", "schedulers",
			[]node.Input{{Name: "model", Type: node.TypeModel}, stepsIn,
				smpFloatIn("alpha", 0.6, 0, 50, 0.01), smpFloatIn("beta", 0.6, 0, 50, 0.01)}, smpSigmasOut()),
			func(in map[string]any) ([]any, error) {
				m, err := node.As[node.Model](in, "model")
				if err != nil {
					return nil, err
				}
				n, err := smpStepsIn(in, 10000)
				if err != nil {
					return nil, err
				}
				v, err := smpFloats(in, "alpha", "beta")
				if err != nil {
					return nil, err
				}
				return []any{sampling.Sigmas(sampling.BetaSigmas(m.SigmaTable(), n, v[0], v[1]))}, nil
			}},
		smpFuncNode{smpSigmasSpec("SplitSigmas", "sigmas",
			[]node.Input{sigmasIn, {Name: "step", Type: node.TypeInt, Default: int64(0), Min: node.F(0), Max: node.F(10000)}},
			smpSigmasOut("high_sigmas", "low_sigmas")),
			func(in map[string]any) ([]any, error) {
				s, err := node.As[sampling.Sigmas](in, "sigmas")
				if err != nil {
					return nil, err
				}
				step, err := node.Int(in, "step")
				if err != nil {
					return nil, err
				}
				k := int(min(max(step, 0), int64(len(s))))
				return []any{smpCopySigmas(s[:min(k+1, len(s))]), smpCopySigmas(s[k:])}, nil
			}},
		smpFuncNode{smpSigmasSpec("SplitSigmasDenoise", "sigmas",
			[]node.Input{sigmasIn, smpFloatIn("denoise", 1.0, 0, 1, 0.01)}, smpSigmasOut("high_sigmas", "low_sigmas")),
			func(in map[string]any) ([]any, error) {
				s, err := node.As[sampling.Sigmas](in, "sigmas")
				if err != nil {
					return nil, err
				}
				d, err := node.Float(in, "denoise")
				if err != nil {
					return nil, err
				}
				steps := max(len(s)-1, 0)
				total := int(math.RoundToEven(float64(steps) * d))
				// Python slices: s[:-total] (empty when total is 0) and
				// s[-(total+1):].
				high := s[:0]
				if total > 0 {
					high = s[:max(len(s)-total, 0)]
				}
				low := s[max(len(s)-(total+1), 0):]
				return []any{smpCopySigmas(high), smpCopySigmas(low)}, nil
			}},
		smpFuncNode{smpSigmasSpec("FlipSigmas", "sigmas", []node.Input{sigmasIn}, smpSigmasOut()),
			func(in map[string]any) ([]any, error) {
				s, err := node.As[sampling.Sigmas](in, "sigmas")
				if err != nil {
					return nil, err
				}
				out := make(sampling.Sigmas, len(s))
				for i, v := range s {
					out[len(s)-1-i] = v
				}
				if len(out) > 0 && out[0] == 0 {
					out[0] = float64(float32(0.0001))
				}
				return []any{out}, nil
			}},
		smpFuncNode{smpSigmasSpec("SetFirstSigma", "sigmas",
			[]node.Input{sigmasIn, smpFloatIn("sigma", 136.0, 0, 20000, 0.001)}, smpSigmasOut()),
			func(in map[string]any) ([]any, error) {
				s, err := node.As[sampling.Sigmas](in, "sigmas")
				if err != nil {
					return nil, err
				}
				v, err := node.Float(in, "sigma")
				if err != nil {
					return nil, err
				}
				out := smpCopySigmas(s)
				if len(out) == 0 {
					return nil, fmt.Errorf("set first sigma: empty sigmas")
				}
				out[0] = float64(float32(v))
				return []any{out}, nil
			}},
	}
}

func smpCopySigmas(s []float64) sampling.Sigmas { return append(sampling.Sigmas{}, s...) }
