package nodes

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/model"
	"github.com/regen-dev/regen/executor/node"
)

func modelEnv() *node.Env {
	return &node.Env{Dirs: node.Dirs{Models: filepath.Join("..", "..", "fixtures", "models")}}
}

func exec(t testing.TB, n node.Node, env *node.Env, in map[string]any) []any {
	t.Helper()
	r, err := n.Execute(context.Background(), env, in)
	if err != nil {
		t.Fatalf("%s: %v", n.Spec().Name, err)
	}
	if len(r.Outputs) != len(n.Spec().Outputs) {
		t.Fatalf("%s: %d outputs, spec says %d", n.Spec().Name, len(r.Outputs), len(n.Spec().Outputs))
	}
	return r.Outputs
}

func TestModelNodeSpecs(t *testing.T) {
	t.Parallel()
	byName := map[string]node.Spec{}
	for _, n := range modelNodes() {
		byName[n.Spec().Name] = n.Spec()
	}
	tests := []struct {
		class   string
		inputs  []string
		outputs []string
	}{
		{"CheckpointLoaderSimple", []string{"ckpt_name"}, []string{"MODEL", "CLIP", "VAE"}},
		{"CLIPTextEncode", []string{"text", "clip"}, []string{"CONDITIONING"}},
		{"ConditioningCombine", []string{"conditioning_1", "conditioning_2"}, []string{"CONDITIONING"}},
		{"ConditioningZeroOut", []string{"conditioning"}, []string{"CONDITIONING"}},
		{"VAEDecode", []string{"samples", "vae"}, []string{"IMAGE"}},
		{"VAEEncode", []string{"pixels", "vae"}, []string{"LATENT"}},
		{"LoraLoader", []string{"model", "clip", "lora_name", "strength_model", "strength_clip"}, []string{"MODEL", "CLIP"}},
		{"VAELoader", []string{"vae_name"}, []string{"VAE"}},
	}
	for _, tc := range tests {
		t.Run(tc.class, func(t *testing.T) {
			s, ok := byName[tc.class]
			if !ok {
				t.Fatalf("%s not registered", tc.class)
			}
			if len(s.Inputs) != len(tc.inputs) || len(s.Outputs) != len(tc.outputs) {
				t.Fatalf("inputs %v outputs %v", s.Inputs, s.Outputs)
			}
			for i, in := range s.Inputs {
				if in.Name != tc.inputs[i] {
					t.Errorf("input %d = %s, want %s", i, in.Name, tc.inputs[i])
				}
			}
			for i, o := range s.Outputs {
				if o.Type != tc.outputs[i] {
					t.Errorf("output %d = %s, want %s", i, o.Type, tc.outputs[i])
				}
			}
		})
	}
	text, _ := byName["CLIPTextEncode"].Input("text")
	if !text.Multiline || !text.DynamicPrompts || text.Type != node.TypeString {
		t.Errorf("text input %+v", text)
	}
	ck, _ := byName["CheckpointLoaderSimple"].Input("ckpt_name")
	lo, _ := byName["LoraLoader"].Input("lora_name")
	if ck.ComboFolder != "checkpoints" || lo.ComboFolder != "loras" {
		t.Errorf("combo folders %q %q", ck.ComboFolder, lo.ComboFolder)
	}
	sm, _ := byName["LoraLoader"].Input("strength_model")
	if sm.Default != 1.0 || *sm.Min != -100 || *sm.Max != 100 || *sm.Step != 0.01 {
		t.Errorf("strength_model %+v", sm)
	}
}

func loadCkptNode(t testing.TB, name string) (*model.Model, *model.TextEncoder, *model.VAE) {
	t.Helper()
	out := exec(t, ckptLoaderNode{}, modelEnv(), map[string]any{"ckpt_name": name})
	return out[0].(*model.Model), out[1].(*model.TextEncoder), out[2].(*model.VAE)
}

func TestCheckpointLoaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, want string
	}{
		{"missing", "nope.safetensors", "not found in " + filepath.Join("..", "..", "fixtures", "models", "checkpoints")},
		{"escape", "../loras/regen-lora.safetensors", "not a file name inside"},
		{"absolute", "/etc/passwd", "not a file name inside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ckptLoaderNode{}.Execute(context.Background(), modelEnv(), map[string]any{"ckpt_name": tc.file})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("error %v, want one naming %q and containing %q", err, tc.file, tc.want)
			}
		})
	}
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
	cond := exec(t, clipTextEncodeNode{}, env, map[string]any{"text": "a pink star on sky", "clip": clip})[0].(node.Conditioning)
	if len(cond) != 1 || cond[0].Text != "a pink star on sky" {
		t.Fatalf("conditioning %+v", cond)
	}

	// both strengths 0: passthrough, the very same objects
	out := exec(t, loraLoaderNode{}, env, map[string]any{"model": m, "clip": clip, "lora_name": "regen-lora.safetensors",
		"strength_model": 0.0, "strength_clip": 0.0})
	if out[0] != node.Model(m) || out[1] != node.CLIP(clip) {
		t.Errorf("LoraLoader at 0/0 did not pass through")
	}
	out = exec(t, loraLoaderNode{}, env, map[string]any{"model": m, "clip": clip, "lora_name": "regen-lora.safetensors",
		"strength_model": 1.0, "strength_clip": 1.0})
	lm, lclip := out[0].(*model.Model), out[1].(*model.TextEncoder)
	if lm.Hash() == m.Hash() || lm.Exemplars() <= m.Exemplars() {
		t.Errorf("LoRA model hash %s (base %s), exemplars %d (base %d)", lm.Hash(), m.Hash(), lm.Exemplars(), m.Exemplars())
	}
	lcond := exec(t, clipTextEncodeNode{}, env, map[string]any{"text": "a pink star on sky", "clip": lclip})[0].(node.Conditioning)

	decode := func(x *node.Tensor) *node.Image {
		return exec(t, vaeDecodeNode{}, env, map[string]any{"samples": &node.Latent{Samples: x}, "vae": vae})[0].(*node.Image)
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
	lat := exec(t, vaeEncodeNode{}, env, map[string]any{"pixels": base, "vae": vae})[0].(*node.Latent)
	if s := lat.Samples.Shape; s[0] != 1 || s[1] != 4 || s[2] != 32 || s[3] != 32 {
		t.Errorf("encoded shape %v", s)
	}

	// combine and zero out
	both := exec(t, condCombineNode{}, env, map[string]any{"conditioning_1": cond, "conditioning_2": lcond})[0].(node.Conditioning)
	if len(both) != 2 || both[1].Text != lcond[0].Text {
		t.Errorf("combine %+v", both)
	}
	zero := exec(t, condZeroOutNode{}, env, map[string]any{"conditioning": both})[0].(node.Conditioning)
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

func TestVAELoader(t *testing.T) {
	t.Parallel()
	env := &node.Env{Dirs: node.Dirs{Models: t.TempDir()}}
	_, err := vaeLoaderNode{}.Execute(context.Background(), env, map[string]any{"vae_name": "x.safetensors"})
	if err == nil || !strings.Contains(err.Error(), "x.safetensors") || !strings.Contains(err.Error(), filepath.Join(env.Dirs.Models, "vae")) {
		t.Fatalf("error %v", err)
	}
	env = &node.Env{Dirs: node.Dirs{Models: filepath.Join("..", "..", "fixtures", "models", "..")}}
	out, err := vaeLoaderNode{}.Execute(context.Background(), env, map[string]any{"vae_name": "../models/checkpoints/regen-gmm.safetensors"})
	if err == nil {
		t.Fatalf("VAELoader escaped its folder: %v", out)
	}
}
