package nodes

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/sampling"
)

// smpFake is a model whose denoiser is exact for data N(μ, 0.5²) per
// element, with μ = Vec[0] of the conditioning (0 for the empty prompt).
type smpFake struct{ channels int }

func (m smpFake) Predict(_ context.Context, x *node.Tensor, sigma float64, c node.Cond) (*node.Tensor, error) {
	mu := 0.0
	if len(c.Vec) > 0 {
		mu = float64(c.Vec[0])
	}
	out := node.NewTensor(x.Shape...)
	for i, v := range x.Data {
		out.Data[i] = float32(mu + 0.25/(0.25+sigma*sigma)*(float64(v)-mu))
	}
	return out, nil
}
func (m smpFake) SigmaTable() []float64 { return sampling.DefaultTable() }
func (m smpFake) LatentChannels() int {
	if m.channels == 0 {
		return 4
	}
	return m.channels
}
func (m smpFake) Hash() string { return "fake" }

func smpExec(t testing.TB, n node.Node, env *node.Env, in map[string]any) []any {
	t.Helper()
	r, err := n.Execute(context.Background(), env, in)
	if err != nil {
		t.Fatalf("%s: %v", n.Spec().Name, err)
	}
	if len(r.Outputs) != len(n.Spec().Outputs) {
		t.Fatalf("%s: %d outputs, spec has %d", n.Spec().Name, len(r.Outputs), len(n.Spec().Outputs))
	}
	return r.Outputs
}

func smpLatent(b, h, w int) *node.Latent {
	return &node.Latent{Samples: node.NewTensor(b, 4, h, w)}
}

func smpKSamplerIn(lat *node.Latent, sampler, sched string, steps int64, seed uint64) map[string]any {
	return map[string]any{
		"model": node.Model(smpFake{}), "seed": seed, "steps": steps, "cfg": 7.0,
		"sampler_name": sampler, "scheduler": sched,
		"positive": node.Conditioning{{Vec: []float32{0.8}}}, "negative": node.Conditioning{{Vec: []float32{0.2}}},
		"latent_image": lat, "denoise": 1.0,
	}
}

func smpSamples(t testing.TB, v any) *node.Tensor {
	t.Helper()
	l, ok := v.(*node.Latent)
	if !ok || l.Samples == nil {
		t.Fatalf("output is %T, want *node.Latent with samples", v)
	}
	return l.Samples
}

func TestSamplingNodeSpecs(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"KSampler": "sampling", "KSamplerAdvanced": "sampling", "EmptyLatentImage": "latent",
		"LatentUpscale": "latent", "LatentUpscaleBy": "latent", "LatentFromBatch": "latent/batch",
		"RepeatLatentBatch": "latent/batch", "LatentAdd": "latent/advanced", "LatentMultiply": "latent/advanced",
		"RandomNoise": "sampling/custom_sampling/noise", "DisableNoise": "sampling/custom_sampling/noise",
		"KSamplerSelect": "sampling/custom_sampling/samplers", "BasicScheduler": "sampling/custom_sampling/schedulers",
		"KarrasScheduler": "sampling/custom_sampling/schedulers", "BasicGuider": "sampling/custom_sampling/guiders",
		"CFGGuider": "sampling/custom_sampling/guiders", "SamplerCustomAdvanced": "sampling/custom_sampling",
		"SamplerCustom":        "sampling/custom_sampling",
		"ExponentialScheduler": "sampling/custom_sampling/schedulers", "PolyexponentialScheduler": "sampling/custom_sampling/schedulers",
		"LaplaceScheduler": "sampling/custom_sampling/schedulers", "VPScheduler": "sampling/custom_sampling/schedulers",
		"SDTurboScheduler": "sampling/custom_sampling/schedulers", "BetaSamplingScheduler": "sampling/custom_sampling/schedulers",
		"SplitSigmas": "sampling/custom_sampling/sigmas", "SplitSigmasDenoise": "sampling/custom_sampling/sigmas",
		"FlipSigmas": "sampling/custom_sampling/sigmas", "SetFirstSigma": "sampling/custom_sampling/sigmas",
	}
	reg, err := node.NewRegistry(samplingNodes()...)
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

func TestEmptyLatentImage(t *testing.T) {
	t.Parallel()
	out := smpExec(t, latEmptyNode{}, nil, map[string]any{"width": int64(512), "height": int64(768), "batch_size": int64(3)})
	if s := smpSamples(t, out[0]); !slices.Equal(s.Shape, []int{3, 4, 96, 64}) {
		t.Fatalf("shape %v", s.Shape)
	}
}

func TestKSamplerNode(t *testing.T) {
	t.Parallel()
	var calls [][2]int
	env := &node.Env{Progress: func(v, m int) error { calls = append(calls, [2]int{v, m}); return nil }}
	out := smpExec(t, smpKSamplerNode{}, env, smpKSamplerIn(smpLatent(1, 8, 8), "dpmpp_2m", "karras", 12, 42))
	s := smpSamples(t, out[0])
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
	again := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, smpKSamplerIn(smpLatent(1, 8, 8), "dpmpp_2m", "karras", 12, 42))[0])
	if !slices.Equal(s.Data, again.Data) {
		t.Fatal("not deterministic")
	}
	other := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, smpKSamplerIn(smpLatent(1, 8, 8), "dpmpp_2m", "karras", 12, 43))[0])
	if slices.Equal(s.Data, other.Data) {
		t.Fatal("seed ignored")
	}

	// denoise 0: the input comes back.
	in := smpKSamplerIn(&node.Latent{Samples: &node.Tensor{Shape: []int{1, 4, 1, 4}, Data: make([]float32, 16)}}, "euler", "normal", 5, 1)
	in["latent_image"].(*node.Latent).Samples.Data[3] = 9
	in["denoise"] = 0.0
	if s := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, in)[0]); s.Data[3] != 9 {
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
	if _, err := (smpKSamplerNode{}).Execute(context.Background(), env, smpKSamplerIn(smpLatent(1, 8, 8), "euler", "karras", 12, 1)); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the interrupt", err)
	}
}

// Two KSamplerAdvanced halves (leftover noise, then no added noise) equal
// one KSampler run of a deterministic sampler, bit for bit.
func TestKSamplerAdvancedSplit(t *testing.T) {
	t.Parallel()
	full := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, smpKSamplerIn(smpLatent(1, 8, 8), "euler", "karras", 20, 5))[0])
	adv := func(lat *node.Latent, add string, start, end int64, leftover string) *node.Latent {
		in := smpKSamplerIn(lat, "euler", "karras", 20, 5)
		delete(in, "seed")
		delete(in, "denoise")
		in["noise_seed"] = uint64(5)
		in["add_noise"] = add
		in["start_at_step"] = start
		in["end_at_step"] = end
		in["return_with_leftover_noise"] = leftover
		return smpExec(t, smpKSamplerAdvancedNode{}, &node.Env{}, in)[0].(*node.Latent)
	}
	half := adv(smpLatent(1, 8, 8), "enable", 0, 10, "enable")
	second := adv(half, "disable", 10, 10000, "disable")
	if !slices.Equal(second.Samples.Data, full.Data) {
		t.Fatal("two halves differ from one run")
	}
	// Without leftover noise the first half ends fully denoised, so it differs.
	if forced := adv(smpLatent(1, 8, 8), "enable", 0, 10, "disable"); slices.Equal(forced.Samples.Data, half.Samples.Data) {
		t.Fatal("return_with_leftover_noise ignored")
	}
	// start ≥ steps returns the input.
	in := smpLatent(1, 8, 8)
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
			lat := smpLatent(2, 8, 8)
			want := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, smpKSamplerIn(lat, name, "exponential", 9, 77))[0])
			in := smpKSamplerIn(lat, name, "exponential", 9, 77)
			noise := smpExec(t, smpRandomNoiseNode{}, nil, map[string]any{"noise_seed": uint64(77)})[0]
			guider := smpExec(t, smpCFGGuiderNode{}, nil, map[string]any{"model": in["model"], "positive": in["positive"], "negative": in["negative"], "cfg": 7.0})[0]
			smp := smpExec(t, smpSelectNode{}, nil, map[string]any{"sampler_name": name})[0]
			sig := smpExec(t, smpBasicSchedulerNode{}, nil, map[string]any{"model": in["model"], "scheduler": "exponential", "steps": int64(9), "denoise": 1.0})[0]
			out := smpExec(t, smpCustomAdvancedNode{}, &node.Env{}, map[string]any{"noise": noise, "guider": guider, "sampler": smp, "sigmas": sig, "latent_image": lat})
			if got := smpSamples(t, out[0]); !slices.Equal(got.Data, want.Data) {
				t.Fatal("SamplerCustomAdvanced differs from KSampler")
			}
			if den := smpSamples(t, out[1]); slices.Equal(den.Data, want.Data) && name != "heun" {
				t.Log("denoised_output equals output")
			}
			custom := smpExec(t, smpCustomNode{}, &node.Env{}, map[string]any{"model": in["model"], "add_noise": true, "noise_seed": uint64(77), "cfg": 7.0,
				"positive": in["positive"], "negative": in["negative"], "sampler": smp, "sigmas": sig, "latent_image": lat})
			if got := smpSamples(t, custom[0]); !slices.Equal(got.Data, want.Data) {
				t.Fatal("SamplerCustom differs from KSampler")
			}
		})
	}
}

// LatentFromBatch sets batch_index, so sampling one picked sample gives the
// same noise, hence the same result, as that sample of the whole batch.
func TestLatentFromBatchKeepsNoise(t *testing.T) {
	t.Parallel()
	lat := smpLatent(4, 8, 8)
	all := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, smpKSamplerIn(lat, "euler", "simple", 6, 9))[0])
	pick := smpExec(t, latFromBatchNode{}, nil, map[string]any{"samples": lat, "batch_index": int64(2), "length": int64(1)})[0].(*node.Latent)
	if !slices.Equal(pick.BatchIndex, []int{2}) {
		t.Fatalf("batch_index %v", pick.BatchIndex)
	}
	one := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, smpKSamplerIn(pick, "euler", "simple", 6, 9))[0])
	per := 4 * 8 * 8
	if !slices.Equal(one.Data, all.Data[2*per:3*per]) {
		t.Fatal("picked sample differs from the batch's sample 2")
	}
}

func TestLatentNodes(t *testing.T) {
	t.Parallel()
	lat := &node.Latent{Samples: &node.Tensor{Shape: []int{2, 4, 8, 16}, Data: make([]float32, 2*4*8*16)}}
	for i := range lat.Samples.Data {
		lat.Samples.Data[i] = float32(i % 7)
	}
	tests := []struct {
		name  string
		n     node.Node
		in    map[string]any
		shape []int
		check func(t *testing.T, l *node.Latent)
	}{
		{"upscale to 256x128", latUpscaleNode{}, map[string]any{"samples": lat, "upscale_method": "nearest-exact", "width": int64(256), "height": int64(128), "crop": "disabled"}, []int{2, 4, 16, 32}, nil},
		{"upscale keeps aspect when width is 0", latUpscaleNode{}, map[string]any{"samples": lat, "upscale_method": "bilinear", "width": int64(0), "height": int64(128), "crop": "disabled"}, []int{2, 4, 16, 32}, nil},
		{"upscale clamps to 64 px", latUpscaleNode{}, map[string]any{"samples": lat, "upscale_method": "bislerp", "width": int64(16), "height": int64(16), "crop": "center"}, []int{2, 4, 8, 8}, nil},
		{"upscale 0x0 passes through", latUpscaleNode{}, map[string]any{"samples": lat, "upscale_method": "area", "width": int64(0), "height": int64(0), "crop": "disabled"}, []int{2, 4, 8, 16}, nil},
		{"upscale by 1.5", latUpscaleByNode{}, map[string]any{"samples": lat, "upscale_method": "bicubic", "scale_by": 1.5}, []int{2, 4, 12, 24}, nil},
		{"repeat batch", latRepeatBatchNode{}, map[string]any{"samples": lat, "amount": int64(3)}, []int{6, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if !slices.Equal(l.Samples.Data[:512], l.Samples.Data[1024:1536]) {
				t.Fatal("repeat did not tile")
			}
		}},
		{"from batch clamps", latFromBatchNode{}, map[string]any{"samples": lat, "batch_index": int64(5), "length": int64(3)}, []int{1, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if !slices.Equal(l.BatchIndex, []int{1}) {
				t.Fatalf("batch_index %v", l.BatchIndex)
			}
		}},
		{"multiply", latMultiplyNode{}, map[string]any{"samples": lat, "multiplier": -2.0}, []int{2, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if l.Samples.Data[5] != -10 || lat.Samples.Data[5] != 5 {
				t.Fatal("multiply wrong or modified its input")
			}
		}},
		{"add", latAddNode{}, map[string]any{"samples1": lat, "samples2": lat}, []int{2, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if l.Samples.Data[6] != 12 {
				t.Fatalf("add gave %v", l.Samples.Data[6])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := smpExec(t, tc.n, nil, tc.in)[0].(*node.Latent)
			if !slices.Equal(l.Samples.Shape, tc.shape) {
				t.Fatalf("shape %v, want %v", l.Samples.Shape, tc.shape)
			}
			if tc.check != nil {
				tc.check(t, l)
			}
		})
	}
	// batch_index survives RepeatLatentBatch with ComfyUI's offsets.
	picked := &node.Latent{Samples: node.NewTensor(2, 4, 2, 2), BatchIndex: []int{3, 4}}
	r := smpExec(t, latRepeatBatchNode{}, nil, map[string]any{"samples": picked, "amount": int64(3)})[0].(*node.Latent)
	if !slices.Equal(r.BatchIndex, []int{3, 4, 5, 6, 7, 8}) {
		t.Fatalf("batch_index %v", r.BatchIndex)
	}
}

func TestKSamplerInpaintKeepsUnmasked(t *testing.T) {
	t.Parallel()
	lat := smpLatent(1, 4, 4)
	for i := range lat.Samples.Data {
		lat.Samples.Data[i] = 0.5
	}
	mask := node.NewTensor(1, 4, 4)
	for i := 0; i < 8; i++ {
		mask.Data[i] = 1 // top half is repainted
	}
	lat.NoiseMask = mask
	s := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, smpKSamplerIn(lat, "euler", "karras", 8, 3))[0])
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
	in := smpKSamplerIn(smpLatent(1, 2, 2), "euler", "simple", 2, 0)
	in["model"] = node.Model(smpFake{channels: 16})
	if s := smpSamples(t, smpExec(t, smpKSamplerNode{}, &node.Env{}, in)[0]); s.Shape[1] != 16 {
		t.Fatalf("shape %v, want 16 channels", s.Shape)
	}
}
