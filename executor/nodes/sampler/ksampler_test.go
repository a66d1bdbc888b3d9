package sampler

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
)

func TestSamplingNodeSpecs(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"KSampler": "model/sampling", "KSamplerAdvanced": "model/sampling", // ComfyUI 0.33.0's categories
		"RandomNoise": "model/sampling/noise", "DisableNoise": "model/sampling/noise",
		"KSamplerSelect": "model/sampling/samplers", "BasicScheduler": "model/sampling/schedulers",
		"KarrasScheduler": "model/sampling/schedulers", "BasicGuider": "model/sampling/guiders",
		"CFGGuider": "model/sampling/guiders", "SamplerCustomAdvanced": "model/sampling/custom",
		"SamplerCustom":        "model/sampling/custom",
		"ExponentialScheduler": "model/sampling/schedulers", "PolyexponentialScheduler": "model/sampling/schedulers",
		"LaplaceScheduler": "model/sampling/schedulers", "VPScheduler": "model/sampling/schedulers",
		"SDTurboScheduler": "model/sampling/schedulers", "BetaSamplingScheduler": "model/sampling/schedulers",
		"SplitSigmas": "model/sampling/sigmas", "SplitSigmasDenoise": "model/sampling/sigmas",
		"FlipSigmas": "model/sampling/sigmas", "SetFirstSigma": "model/sampling/sigmas",
	}
	reg, err := node.NewRegistry(Nodes()...)
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Names(); len(got) != len(want) {
		t.Fatalf("nodes %v", got)
	}
	for name, cat := range want {
		n, ok := reg.Get(name)
		if !ok || n.Spec().Category != cat {
			t.Errorf("%s: present %v, category %q, want %q", name, ok, n.Spec().Category, cat)
		}
	}
	ks, _ := reg.Get("KSampler")
	var names []string
	for _, in := range ks.Spec().Inputs {
		names = append(names, in.Name)
	}
	if !slices.Equal(names, []string{"model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative", "latent_image", "denoise"}) {
		t.Fatalf("KSampler inputs %v", names)
	}
	sc, _ := reg.Get("SamplerCustomAdvanced")
	if o := sc.Spec().Outputs; o[0].Name != "output" || o[1].Name != "denoised_output" {
		t.Fatalf("SamplerCustomAdvanced outputs %+v", o)
	}
	seed, _ := ks.Spec().Input("seed")
	if *seed.Max != 18446744073709551615 || !seed.ControlAfterGenerate {
		t.Fatalf("seed input %+v", seed)
	}
}

func TestKSamplerNode(t *testing.T) {
	t.Parallel()
	var calls [][2]int
	env := &node.Env{Progress: func(v, m int) error { calls = append(calls, [2]int{v, m}); return nil }}
	out := nodetest.Exec(t, kSamplerNode{}, env, nodetest.KSamplerInputs(nodetest.Latent(1, 8, 8), "dpmpp_2m", "karras", 12, 42))
	s := nodetest.Samples(t, out[0])
	if len(calls) != 12 || calls[11] != [2]int{12, 12} {
		t.Fatalf("progress calls %v", calls)
	}
	// CFG 7 between μ=0.8 and μ=0.2 pulls the data mean to 0.2+7·0.6 = 4.4.
	var mean float64
	for _, v := range s.Data {
		mean += float64(v)
	}
	mean /= float64(len(s.Data))
	if math.Abs(mean-4.4) > 0.3 {
		t.Fatalf("mean %.3f, want ≈ 4.4", mean)
	}
	again := nodetest.Samples(t, nodetest.Exec(t, kSamplerNode{}, &node.Env{}, nodetest.KSamplerInputs(nodetest.Latent(1, 8, 8), "dpmpp_2m", "karras", 12, 42))[0])
	if !slices.Equal(s.Data, again.Data) {
		t.Fatal("not deterministic")
	}
	other := nodetest.Samples(t, nodetest.Exec(t, kSamplerNode{}, &node.Env{}, nodetest.KSamplerInputs(nodetest.Latent(1, 8, 8), "dpmpp_2m", "karras", 12, 43))[0])
	if slices.Equal(s.Data, other.Data) {
		t.Fatal("seed ignored")
	}

	// denoise 0: the input comes back.
	in := nodetest.KSamplerInputs(&node.Latent{Samples: &node.Tensor{Shape: []int{1, 4, 1, 4}, Data: make([]float32, 16)}}, "euler", "normal", 5, 1)
	in["latent_image"].(*node.Latent).Samples.Data[3] = 9
	in["denoise"] = 0.0
	if s := nodetest.Samples(t, nodetest.Exec(t, kSamplerNode{}, &node.Env{}, in)[0]); s.Data[3] != 9 {
		t.Fatalf("denoise 0 changed the latent: %v", s.Data)
	}

	// Interrupt.
	stop := errors.New("interrupted")
	env = &node.Env{Progress: func(v, _ int) error {
		if v == 2 {
			return stop
		}
		return nil
	}}
	if _, err := (kSamplerNode{}).Execute(context.Background(), env, nodetest.KSamplerInputs(nodetest.Latent(1, 8, 8), "euler", "karras", 12, 1)); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the interrupt", err)
	}
}

// Two KSamplerAdvanced halves (leftover noise, then no added noise) equal
// one KSampler run of a deterministic sampler, bit for bit.
func TestKSamplerAdvancedSplit(t *testing.T) {
	t.Parallel()
	full := nodetest.Samples(t, nodetest.Exec(t, kSamplerNode{}, &node.Env{}, nodetest.KSamplerInputs(nodetest.Latent(1, 8, 8), "euler", "karras", 20, 5))[0])
	adv := func(lat *node.Latent, add string, start, end int64, leftover string) *node.Latent {
		in := nodetest.KSamplerInputs(lat, "euler", "karras", 20, 5)
		delete(in, "seed")
		delete(in, "denoise")
		in["noise_seed"] = uint64(5)
		in["add_noise"] = add
		in["start_at_step"] = start
		in["end_at_step"] = end
		in["return_with_leftover_noise"] = leftover
		return nodetest.Exec(t, kSamplerAdvancedNode{}, &node.Env{}, in)[0].(*node.Latent)
	}
	half := adv(nodetest.Latent(1, 8, 8), "enable", 0, 10, "enable")
	second := adv(half, "disable", 10, 10000, "disable")
	if !slices.Equal(second.Samples.Data, full.Data) {
		t.Fatal("two halves differ from one run")
	}
	// Without leftover noise the first half ends fully denoised, so it differs.
	if forced := adv(nodetest.Latent(1, 8, 8), "enable", 0, 10, "disable"); slices.Equal(forced.Samples.Data, half.Samples.Data) {
		t.Fatal("return_with_leftover_noise ignored")
	}
	// start ≥ steps returns the input.
	in := nodetest.Latent(1, 8, 8)
	in.Samples.Data[0] = 3
	if out := adv(in, "enable", 20, 10000, "disable"); out.Samples.Data[0] != 3 || out.Samples.Data[1] != 0 {
		t.Fatal("start_at_step ≥ steps did not return the input")
	}
}

// The custom-sampler chain reproduces KSampler exactly.
func TestSamplerCustomAdvancedMatchesKSampler(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"euler_ancestral", "dpmpp_2m_sde", "heun"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lat := nodetest.Latent(2, 8, 8)
			want := nodetest.Samples(t, nodetest.Exec(t, kSamplerNode{}, &node.Env{}, nodetest.KSamplerInputs(lat, name, "exponential", 9, 77))[0])
			in := nodetest.KSamplerInputs(lat, name, "exponential", 9, 77)
			noise := nodetest.Exec(t, randomNoiseNode{}, nil, map[string]any{"noise_seed": uint64(77)})[0]
			guider := nodetest.Exec(t, cfgGuiderNode{}, nil, map[string]any{"model": in["model"], "positive": in["positive"], "negative": in["negative"], "cfg": 7.0})[0]
			smp := nodetest.Exec(t, selectNode{}, nil, map[string]any{"sampler_name": name})[0]
			sig := nodetest.Exec(t, basicSchedulerNode{}, nil, map[string]any{"model": in["model"], "scheduler": "exponential", "steps": int64(9), "denoise": 1.0})[0]
			out := nodetest.Exec(t, customAdvancedNode{}, &node.Env{}, map[string]any{"noise": noise, "guider": guider, "sampler": smp, "sigmas": sig, "latent_image": lat})
			if got := nodetest.Samples(t, out[0]); !slices.Equal(got.Data, want.Data) {
				t.Fatal("SamplerCustomAdvanced differs from KSampler")
			}
			if den := nodetest.Samples(t, out[1]); slices.Equal(den.Data, want.Data) && name != "heun" {
				t.Log("denoised_output equals output")
			}
			custom := nodetest.Exec(t, customNode{}, &node.Env{}, map[string]any{"model": in["model"], "add_noise": true, "noise_seed": uint64(77), "cfg": 7.0,
				"positive": in["positive"], "negative": in["negative"], "sampler": smp, "sigmas": sig, "latent_image": lat})
			if got := nodetest.Samples(t, custom[0]); !slices.Equal(got.Data, want.Data) {
				t.Fatal("SamplerCustom differs from KSampler")
			}
		})
	}
}

func TestKSamplerInpaintKeepsUnmasked(t *testing.T) {
	t.Parallel()
	lat := nodetest.Latent(1, 4, 4)
	for i := range lat.Samples.Data {
		lat.Samples.Data[i] = 0.5
	}
	mask := node.NewTensor(1, 4, 4)
	for i := 0; i < 8; i++ {
		mask.Data[i] = 1 // top half is repainted
	}
	lat.NoiseMask = mask
	s := nodetest.Samples(t, nodetest.Exec(t, kSamplerNode{}, &node.Env{}, nodetest.KSamplerInputs(lat, "euler", "karras", 8, 3))[0])
	for c := 0; c < 4; c++ {
		for i := 8; i < 16; i++ {
			if s.Data[c*16+i] != 0.5 {
				t.Fatalf("unmasked value changed: %v", s.Data[c*16+i])
			}
		}
		if s.Data[c*16] == 0.5 {
			t.Fatal("masked value unchanged")
		}
	}
}

func TestFixEmptyLatentChannels(t *testing.T) {
	t.Parallel()
	in := nodetest.KSamplerInputs(nodetest.Latent(1, 2, 2), "euler", "simple", 2, 0)
	in["model"] = node.Model(nodetest.Model{Channels: 16})
	if s := nodetest.Samples(t, nodetest.Exec(t, kSamplerNode{}, &node.Env{}, in)[0]); s.Shape[1] != 16 {
		t.Fatalf("shape %v, want 16 channels", s.Shape)
	}
}

func TestSamplerNodeErrors(t *testing.T) {
	t.Parallel()
	with := func(k string, v any) map[string]any {
		in := nodetest.KSamplerInputs(nodetest.Latent(1, 2, 2), "euler", "normal", 4, 1)
		if v == nil {
			delete(in, k)
		} else {
			in[k] = v
		}
		return in
	}
	tests := []struct {
		name string
		n    node.Node
		in   map[string]any
		want string
	}{
		{"steps out of range", kSamplerNode{}, with("steps", int64(0)), "input steps: 0 out of range 1..10000"},
		{"seed negative", kSamplerNode{}, with("seed", int64(-1)), "input seed: -1 is negative"},
		{"model missing", kSamplerNode{}, with("model", nil), "input model: missing"},
		{"latent of the wrong type", kSamplerNode{}, with("latent_image", node.NewTensor(1)), "input latent_image: got *node.Tensor, want *node.Latent"},
		{"unknown sampler", kSamplerNode{}, with("sampler_name", "nope"), "unknown sampler"},
		{"karras steps", karrasSchedulerNode{}, map[string]any{"steps": int64(10001), "sigma_max": 1.0, "sigma_min": 0.1, "rho": 7.0}, "input steps: 10001 out of range 1..10000"},
		{"sd turbo steps", sigmaNode(t, "SDTurboScheduler"), map[string]any{"model": node.Model(nodetest.Model{}), "steps": int64(11), "denoise": 1.0}, "input steps: 11 out of range 1..10"},
		{"sigmas of the wrong type", sigmaNode(t, "FlipSigmas"), map[string]any{"sigmas": []float64{1, 0}}, "input sigmas: got []float64, want sampling.Sigmas"},
		{"noise not a NOISE", customAdvancedNode{}, map[string]any{"noise": 1}, "input noise: got int, want sampling.Noise"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.n.Execute(t.Context(), &node.Env{}, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
