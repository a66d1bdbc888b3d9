package loader

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

func modelEnv() *node.Env {
	return &node.Env{Dirs: node.Dirs{Models: filepath.Join("..", "..", "..", "fixtures", "models")}}
}

func TestLoaderNodeSpecs(t *testing.T) {
	t.Parallel()
	byName := map[string]node.Spec{}
	for _, n := range Nodes() {
		byName[n.Spec().Name] = n.Spec()
	}
	tests := []struct {
		class   string
		inputs  []string
		outputs []string
	}{
		{"CheckpointLoaderSimple", []string{"ckpt_name"}, []string{"MODEL", "CLIP", "VAE"}},
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

func TestCheckpointLoaderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, want string
	}{
		{"missing", "nope.safetensors", "not found in " + filepath.Join("..", "..", "..", "fixtures", "models", "checkpoints")},
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

func TestVAELoader(t *testing.T) {
	t.Parallel()
	env := &node.Env{Dirs: node.Dirs{Models: t.TempDir()}}
	_, err := vaeLoaderNode{}.Execute(context.Background(), env, map[string]any{"vae_name": "x.safetensors"})
	if err == nil || !strings.Contains(err.Error(), "x.safetensors") || !strings.Contains(err.Error(), filepath.Join(env.Dirs.Models, "vae")) {
		t.Fatalf("error %v", err)
	}
	env = &node.Env{Dirs: node.Dirs{Models: filepath.Join("..", "..", "..", "fixtures", "models", "..")}}
	out, err := vaeLoaderNode{}.Execute(context.Background(), env, map[string]any{"vae_name": "../models/checkpoints/regen-gmm.safetensors"})
	if err == nil {
		t.Fatalf("VAELoader escaped its folder: %v", out)
	}
}
