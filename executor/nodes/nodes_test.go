package nodes_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/model"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
)

// Tests across families: each runs built-in node classes of several
// packages together, looked up by class name as the engine does.

func builtin(t testing.TB, class string) node.Node {
	t.Helper()
	return nodetest.Find(t, nodes.Builtin(), class)
}

func modelEnv() *node.Env {
	return &node.Env{Dirs: node.Dirs{Models: filepath.Join("..", "..", "fixtures", "models")}}
}

// TestBuiltin pins the set of built-in classes: a class dropped or added
// by a family shows here, and no two families may register one name.
func TestBuiltin(t *testing.T) {
	t.Parallel()
	reg, err := node.NewRegistry(nodes.Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(`BasicGuider BasicScheduler BetaSamplingScheduler CFGGuider CLIPTextEncode
		CheckpointLoaderSimple ConditioningCombine ConditioningZeroOut DisableNoise EmptyLatentImage
		ExponentialScheduler FlipSigmas ImageBatch ImageInvert ImageScale KSampler KSamplerAdvanced
		KSamplerSelect KarrasScheduler LaplaceScheduler LatentAdd LatentFromBatch LatentMultiply
		LatentUpscale LatentUpscaleBy LoadImage LoraLoader PolyexponentialScheduler PreviewImage
		RandomNoise RepeatLatentBatch SDTurboScheduler SamplerCustom SamplerCustomAdvanced SaveImage
		SaveImageWebsocket SetFirstSigma SolidColorImage SplitSigmas SplitSigmasDenoise VAEDecode
		VAEEncode VAELoader VPScheduler`)
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Fatalf("classes %v, want %v", got, want)
	}
}

func loadCkptNode(t testing.TB, name string) (*model.Model, *model.TextEncoder, *model.VAE) {
	t.Helper()
	out := nodetest.Exec(t, builtin(t, "CheckpointLoaderSimple"), modelEnv(), map[string]any{"ckpt_name": name})
	return out[0].(*model.Model), out[1].(*model.TextEncoder), out[2].(*model.VAE)
}

// sample runs a 20-step Euler loop (karras σ) from fixed noise.
func sample(t testing.TB, m node.Model, c node.Cond, h, w int) *node.Tensor {
	t.Helper()
	sig := m.SigmaTable()
	const steps, rho = 20, 7.0
	lo, hi := math.Pow(sig[0], 1/rho), math.Pow(sig[len(sig)-1], 1/rho)
	sigmas := make([]float64, steps+1)
	for i := 0; i < steps; i++ {
		sigmas[i] = math.Pow(hi+float64(i)/(steps-1)*(lo-hi), rho)
	}
	x := node.NewTensor(1, 4, h, w)
	s := uint64(12345)
	for i := range x.Data { // Irwin–Hall approximation of a normal: enough here
		var u float64
		for k := 0; k < 12; k++ {
			s = s*6364136223846793005 + 1442695040888963407
			u += float64(s>>11) / (1 << 53)
		}
		x.Data[i] = float32((u - 6) * sigmas[0])
	}
	for i := 0; i < steps; i++ {
		d, err := m.Predict(context.Background(), x, sigmas[i], c)
		if err != nil {
			t.Fatal(err)
		}
		for j := range x.Data {
			x.Data[j] += float32((float64(x.Data[j]) - float64(d.Data[j])) / sigmas[i] * (sigmas[i+1] - sigmas[i]))
		}
	}
	return x
}

func pinkFraction(img *node.Image) float64 {
	n := 0
	for i := 0; i < len(img.Pix); i += 3 {
		r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]
		if r > 0.85 && g > 0.35 && g < 0.65 && b > 0.6 && b < 0.9 {
			n++
		}
	}
	return float64(n) / float64(len(img.Pix)/3)
}

func TestModelPipeline(t *testing.T) {
	t.Parallel()
	env := modelEnv()
	m, clip, vae := loadCkptNode(t, "regen-gmm.safetensors")
	cond := nodetest.Exec(t, builtin(t, "CLIPTextEncode"), env, map[string]any{"text": "a pink star on sky", "clip": clip})[0].(node.Conditioning)
	if len(cond) != 1 || cond[0].Text != "a pink star on sky" {
		t.Fatalf("conditioning %+v", cond)
	}

	// both strengths 0: passthrough, the very same objects
	out := nodetest.Exec(t, builtin(t, "LoraLoader"), env, map[string]any{"model": m, "clip": clip, "lora_name": "regen-lora.safetensors",
		"strength_model": 0.0, "strength_clip": 0.0})
	if out[0] != node.Model(m) || out[1] != node.CLIP(clip) {
		t.Errorf("LoraLoader at 0/0 did not pass through")
	}
	out = nodetest.Exec(t, builtin(t, "LoraLoader"), env, map[string]any{"model": m, "clip": clip, "lora_name": "regen-lora.safetensors",
		"strength_model": 1.0, "strength_clip": 1.0})
	lm, lclip := out[0].(*model.Model), out[1].(*model.TextEncoder)
	if lm.Hash() == m.Hash() || lm.Exemplars() <= m.Exemplars() {
		t.Errorf("LoRA model hash %s (base %s), exemplars %d (base %d)", lm.Hash(), m.Hash(), lm.Exemplars(), m.Exemplars())
	}
	lcond := nodetest.Exec(t, builtin(t, "CLIPTextEncode"), env, map[string]any{"text": "a pink star on sky", "clip": lclip})[0].(node.Conditioning)

	decode := func(x *node.Tensor) *node.Image {
		return nodetest.Exec(t, builtin(t, "VAEDecode"), env, map[string]any{"samples": &node.Latent{Samples: x}, "vae": vae})[0].(*node.Image)
	}
	base := decode(sample(t, m, cond[0], 32, 32))
	withLoRA := decode(sample(t, lm, lcond[0], 32, 32))
	pb, pl := pinkFraction(base), pinkFraction(withLoRA)
	t.Logf("pink pixels for 'a pink star on sky': base %.4f, with LoRA %.4f", pb, pl)
	if pl <= pb || pl < 0.005 {
		t.Errorf("LoRA did not bring pink: base %.4f, LoRA %.4f", pb, pl)
	}
	if base.H != 256 || base.W != 256 || base.C != 3 {
		t.Errorf("decoded %dx%dx%d", base.H, base.W, base.C)
	}

	// VAEEncode of the decode gives back a latent of the same size
	lat := nodetest.Exec(t, builtin(t, "VAEEncode"), env, map[string]any{"pixels": base, "vae": vae})[0].(*node.Latent)
	if s := lat.Samples.Shape; s[0] != 1 || s[1] != 4 || s[2] != 32 || s[3] != 32 {
		t.Errorf("encoded shape %v", s)
	}

	// combine and zero out
	both := nodetest.Exec(t, builtin(t, "ConditioningCombine"), env, map[string]any{"conditioning_1": cond, "conditioning_2": lcond})[0].(node.Conditioning)
	if len(both) != 2 || both[1].Text != lcond[0].Text {
		t.Errorf("combine %+v", both)
	}
	zero := nodetest.Exec(t, builtin(t, "ConditioningZeroOut"), env, map[string]any{"conditioning": both})[0].(node.Conditioning)
	for _, c := range zero {
		for _, v := range c.Vec {
			if v != 0 {
				t.Fatalf("zero out left %v", c.Vec)
			}
		}
	}
	var n2 float32
	for _, v := range both[0].Vec {
		n2 += v * v
	}
	if math.Abs(float64(n2)-1) > 1e-5 {
		t.Errorf("zero out modified its input: ‖vec‖² = %v, want 1", n2)
	}
}

// LatentFromBatch sets batch_index, so sampling one picked sample gives the
// same noise, hence the same result, as that sample of the whole batch.
func TestLatentFromBatchKeepsNoise(t *testing.T) {
	t.Parallel()
	lat := nodetest.Latent(4, 8, 8)
	all := nodetest.Samples(t, nodetest.Exec(t, builtin(t, "KSampler"), &node.Env{}, nodetest.KSamplerInputs(lat, "euler", "simple", 6, 9))[0])
	pick := nodetest.Exec(t, builtin(t, "LatentFromBatch"), nil, map[string]any{"samples": lat, "batch_index": int64(2), "length": int64(1)})[0].(*node.Latent)
	if !slices.Equal(pick.BatchIndex, []int{2}) {
		t.Fatalf("batch_index %v", pick.BatchIndex)
	}
	one := nodetest.Samples(t, nodetest.Exec(t, builtin(t, "KSampler"), &node.Env{}, nodetest.KSamplerInputs(pick, "euler", "simple", 6, 9))[0])
	per := 4 * 8 * 8
	if !slices.Equal(one.Data, all.Data[2*per:3*per]) {
		t.Fatal("picked sample differs from the batch's sample 2")
	}
}
