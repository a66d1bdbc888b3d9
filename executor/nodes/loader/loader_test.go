package loader

import (
	"context"
	"path/filepath"
	"slices"
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

// TestPixelSpaceVAE holds the pixel-space VAE to ComfyUI 0.33.0: a real
// 0.33.0 ran LoadImage → VAELoader pixel_space → VAEEncode →
// LatentMultiply 0.5 → VAEDecode → SaveImage on pixels (40, 90, 190) and
// saved (83, 108, 158); EmptyLatentImage 24×16 decoded to a 3×2 RGBA image
// of 127s.
func TestPixelSpaceVAE(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	save := func(v float32) uint8 { return uint8(min(max(float32(v*255), 0), 255)) }
	tests := []struct {
		name  string
		img   *node.Image // encoded, halved, decoded
		lat   *node.Tensor
		wantC int
		want  []uint8 // saved bytes of the first pixel
	}{
		{name: "halved round trip", img: &node.Image{N: 1, H: 1, W: 2, C: 3, Pix: []float32{40. / 255, 90. / 255, 190. / 255, 0, 0, 0}},
			wantC: 3, want: []uint8{83, 108, 158}},
		{name: "RGBA pixels keep three channels", img: &node.Image{N: 1, H: 1, W: 1, C: 4, Pix: []float32{1, 0, 1, 0.25}},
			wantC: 3, want: []uint8{191, 63, 191}},
		{name: "a zero 4-channel latent decodes to RGBA grey", lat: node.NewTensor(1, 4, 2, 3), wantC: 4, want: []uint8{127, 127, 127, 127}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vae := PixelSpaceVAE{}
			lat := tc.lat
			if tc.img != nil {
				var err error
				if lat, err = vae.Encode(ctx, tc.img); err != nil {
					t.Fatalf("encode: %v", err)
				}
				if want := []int{tc.img.N, tc.wantC, tc.img.H, tc.img.W}; !slices.Equal(lat.Shape, want) {
					t.Fatalf("latent shape %v, want %v", lat.Shape, want)
				}
				for i := range lat.Data {
					lat.Data[i] *= 0.5
				}
			}
			img, err := vae.Decode(ctx, lat)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if img.C != tc.wantC || img.H != lat.Shape[2] || img.W != lat.Shape[3] {
				t.Fatalf("image %d×%d×%d, want %d channels and the latent's size", img.H, img.W, img.C, tc.wantC)
			}
			var got []uint8
			for _, v := range img.Pix[:img.C] {
				got = append(got, save(v))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("saved pixel %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := (PixelSpaceVAE{}).Decode(ctx, node.NewTensor(1, 4, 2)); err == nil {
		t.Error("decode of a 3-D latent succeeded")
	}
}

func TestVAELoaderPixelSpace(t *testing.T) {
	t.Parallel()
	in, _ := vaeLoaderNode{}.Spec().Input("vae_name")
	if !slices.Equal(in.ComboExtra, []string{"pixel_space"}) || in.ComboFolder != "vae" {
		t.Errorf("vae_name %+v: want the vae folder, then pixel_space", in)
	}
	env := &node.Env{Dirs: node.Dirs{Models: t.TempDir()}} // no vae folder at all
	out, err := vaeLoaderNode{}.Execute(context.Background(), env, map[string]any{"vae_name": "pixel_space"})
	if err != nil {
		t.Fatalf("pixel_space: %v", err)
	}
	if _, ok := out.Outputs[0].(PixelSpaceVAE); !ok || out.Outputs[0].(node.VAE).Downscale() != 1 {
		t.Errorf("pixel_space loaded %T", out.Outputs[0])
	}
}
