package model

import (
	"math"
	"path/filepath"
	"testing"
)

func TestLoRA(t *testing.T) {
	t.Parallel()
	c := loadCkpt(t, "regen-gmm.safetensors")
	l, err := LoadLoRA(filepath.Join(modelsDir(), "loras", "regen-lora.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLoRA(filepath.Join(modelsDir(), "checkpoints", "regen-gmm.safetensors")); err == nil {
		t.Error("a checkpoint loaded as a LoRA")
	}
	base := c.CLIP().EncodeDetail("a pink star")
	if len(base.Unknown) != 2 {
		t.Errorf("base encoder knows %v", base.Tokens)
	}
	tests := []struct {
		name          string
		sModel, sClip float64
		wantExemplars int
		pinkKnown     bool
	}{
		{"full", 1, 1, c.Model().Exemplars() + 16, true},
		{"model only", 0.5, 0, c.Model().Exemplars() + 16, false},
		{"negative model", -1, 1, c.Model().Exemplars(), true},
	}
	hashes := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := c.Model().WithLoRA(l, tc.sModel)
			if err != nil {
				t.Fatal(err)
			}
			if m.Exemplars() != tc.wantExemplars {
				t.Errorf("exemplars %d, want %d", m.Exemplars(), tc.wantExemplars)
			}
			if m.Hash() == c.Model().Hash() {
				t.Error("hash unchanged by the LoRA")
			}
			hashes[tc.name] = m.Hash()
			enc, err := c.CLIP().WithLoRA(l, tc.sClip)
			if err != nil {
				t.Fatal(err)
			}
			e := enc.EncodeDetail("a pink star")
			var n2 float64
			for _, v := range e.Vec {
				n2 += float64(v) * float64(v)
			}
			if known := n2 > 0.5; known != tc.pinkKnown {
				t.Errorf("'pink star' embedding norm² %.3f, want known=%v", n2, tc.pinkKnown)
			}
		})
	}
	if hashes["full"] == hashes["model only"] {
		t.Error("hash ignores the strength")
	}
	// strength_clip shifts "red" towards "pink"
	red0 := c.CLIP().EncodeDetail("red").Vec
	enc, _ := c.CLIP().WithLoRA(l, 1)
	red1 := enc.EncodeDetail("red").Vec
	var dot float64
	for i := range red0 {
		dot += float64(red0[i]) * float64(red1[i])
	}
	if dot > 0.99 || math.IsNaN(dot) {
		t.Errorf("LoRA did not move 'red' (cos %.3f)", dot)
	}
}
