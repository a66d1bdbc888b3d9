package sampler

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/sampling"
)

// More of comfy_extras/nodes_custom_sampler.py: the parametric schedulers
// and the SIGMAS helpers. Each is a small function node.

// funcNode is a node defined by its spec and a function of its inputs.
type funcNode struct {
	spec node.Spec
	fn   func(r *node.Reader) ([]any, error)
}

func (n funcNode) Spec() node.Spec { return n.spec }

func (n funcNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	out, err := n.fn(node.Inputs(in))
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: out}, nil
}

func floatIn(name string, def, lo, hi, step float64) node.Input {
	return node.Input{Name: name, Type: node.TypeFloat, Default: def, Min: node.F(lo), Max: node.F(hi), Step: node.F(step)}
}

// sdTurboDenoise is SDTurboScheduler's denoise: comfy_extras
// nodes_custom_sampler.py declares min=0, an int, which /object_info and
// the validation message keep.
var sdTurboDenoise = func() node.Input {
	in := floatIn("denoise", 1.0, 0, 1, 0.01)
	in.IntOptions = []string{"min"}
	return in
}()

// param is a scheduler parameter as ComfyUI 0.33.0 declares it:
// round=False, advanced=True.
func param(name string, def, lo, hi, step float64) node.Input {
	in := floatIn(name, def, lo, hi, step)
	in.NoRound, in.Advanced = true, true
	return in
}

func sigmasOut(names ...string) []node.Output {
	if len(names) == 0 {
		return []node.Output{{Type: sampling.TypeSigmas}}
	}
	var out []node.Output
	for _, n := range names {
		out = append(out, node.Output{Type: sampling.TypeSigmas, Name: n})
	}
	return out
}

func sigmasSpec(name, sub string, inputs []node.Input, outputs []node.Output) node.Spec {
	return node.Spec{Name: name, DisplayName: name, Category: "model/sampling/" + sub,
		Module: customModule, Inputs: inputs, Outputs: outputs, V3: true}
}

// paramScheduler is a scheduler node of steps and FLOAT parameters:
// sigmas gets the steps and the parameters' values in params' order.
func paramScheduler(name string, steps node.Input, params []node.Input, sigmas func(n int, v []float64) []float64) node.Node {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return funcNode{sigmasSpec(name, "schedulers", append([]node.Input{steps}, params...), sigmasOut()),
		func(r *node.Reader) ([]any, error) {
			n := int(r.IntIn("steps", 1, 10000))
			v := make([]float64, len(names))
			for i, param := range names {
				v[i] = r.Float(param)
			}
			if err := r.Err(); err != nil {
				return nil, err
			}
			return []any{sampling.Sigmas(sigmas(n, v))}, nil
		}}
}

// sigmaNodes returns the extra scheduler and sigma nodes.
func sigmaNodes() []node.Node {
	stepsIn := node.Input{Name: "steps", Type: node.TypeInt, Default: int64(20), Min: node.F(1), Max: node.F(10000)}
	sMax := param("sigma_max", 14.614642, 0, 5000, 0.01)
	sMin := param("sigma_min", 0.0291675, 0, 5000, 0.01)
	sigmasIn := node.Input{Name: "sigmas", Type: sampling.TypeSigmas}
	return []node.Node{
		paramScheduler("ExponentialScheduler", stepsIn, []node.Input{sMax, sMin},
			func(n int, v []float64) []float64 { return sampling.ExponentialSigmas(n, v[1], v[0]) }),
		paramScheduler("PolyexponentialScheduler", stepsIn, []node.Input{sMax, sMin, param("rho", 1.0, 0, 100, 0.01)},
			func(n int, v []float64) []float64 { return sampling.PolyexponentialSigmas(n, v[1], v[0], v[2]) }),
		paramScheduler("LaplaceScheduler", stepsIn,
			[]node.Input{sMax, sMin, param("mu", 0, -10, 10, 0.1), param("beta", 0.5, 0, 10, 0.1)},
			func(n int, v []float64) []float64 { return sampling.LaplaceSigmas(n, v[1], v[0], v[2], v[3]) }),
		paramScheduler("VPScheduler", stepsIn,
			[]node.Input{param("beta_d", 19.9, 0, 5000, 0.01), param("beta_min", 0.1, 0, 5000, 0.01),
				param("eps_s", 0.001, 0, 1, 0.0001)},
			func(n int, v []float64) []float64 { return sampling.VPSigmas(n, v[0], v[1], v[2]) }),
		funcNode{sigmasSpec("SDTurboScheduler", "schedulers",
			[]node.Input{{Name: "model", Type: node.TypeModel},
				{Name: "steps", Type: node.TypeInt, Default: int64(1), Min: node.F(1), Max: node.F(10)},
				sdTurboDenoise}, sigmasOut()),
			func(r *node.Reader) ([]any, error) {
				m, n, denoise := r.Model("model"), r.IntIn("steps", 1, 10), r.Float("denoise")
				if err := r.Err(); err != nil {
					return nil, err
				}
				return []any{sampling.Sigmas(sampling.SDTurboSigmas(m.SigmaTable(), int(n), denoise))}, nil
			}},
		funcNode{sigmasSpec("BetaSamplingScheduler", "schedulers",
			[]node.Input{{Name: "model", Type: node.TypeModel}, stepsIn,
				param("alpha", 0.6, 0, 50, 0.01), param("beta", 0.6, 0, 50, 0.01)}, sigmasOut()),
			func(r *node.Reader) ([]any, error) {
				m, n := r.Model("model"), r.IntIn("steps", 1, 10000)
				alpha, beta := r.Float("alpha"), r.Float("beta")
				if err := r.Err(); err != nil {
					return nil, err
				}
				return []any{sampling.Sigmas(sampling.BetaSigmas(m.SigmaTable(), int(n), alpha, beta))}, nil
			}},
		funcNode{sigmasSpec("SplitSigmas", "sigmas",
			[]node.Input{sigmasIn, {Name: "step", Type: node.TypeInt, Default: int64(0), Min: node.F(0), Max: node.F(10000)}},
			sigmasOut("high_sigmas", "low_sigmas")),
			func(r *node.Reader) ([]any, error) {
				s, step := node.Get[sampling.Sigmas](r, "sigmas"), r.Int("step")
				if err := r.Err(); err != nil {
					return nil, err
				}
				k := int(min(max(step, 0), int64(len(s))))
				return []any{copySigmas(s[:min(k+1, len(s))]), copySigmas(s[k:])}, nil
			}},
		funcNode{sigmasSpec("SplitSigmasDenoise", "sigmas",
			[]node.Input{sigmasIn, floatIn("denoise", 1.0, 0, 1, 0.01)}, sigmasOut("high_sigmas", "low_sigmas")),
			func(r *node.Reader) ([]any, error) {
				s, d := node.Get[sampling.Sigmas](r, "sigmas"), r.Float("denoise")
				if err := r.Err(); err != nil {
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
				return []any{copySigmas(high), copySigmas(low)}, nil
			}},
		funcNode{sigmasSpec("FlipSigmas", "sigmas", []node.Input{sigmasIn}, sigmasOut()),
			func(r *node.Reader) ([]any, error) {
				s := node.Get[sampling.Sigmas](r, "sigmas")
				if err := r.Err(); err != nil {
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
		funcNode{sigmasSpec("SetFirstSigma", "sigmas",
			[]node.Input{sigmasIn, noRound(floatIn("sigma", 136.0, 0, 20000, 0.001))}, sigmasOut()),
			func(r *node.Reader) ([]any, error) {
				s, v := node.Get[sampling.Sigmas](r, "sigmas"), r.Float("sigma")
				if err := r.Err(); err != nil {
					return nil, err
				}
				out := copySigmas(s)
				if len(out) == 0 {
					return nil, fmt.Errorf("set first sigma: empty sigmas")
				}
				out[0] = float64(float32(v))
				return []any{out}, nil
			}},
	}
}

func copySigmas(s []float64) sampling.Sigmas { return append(sampling.Sigmas{}, s...) }

func noRound(in node.Input) node.Input {
	in.NoRound = true
	return in
}
