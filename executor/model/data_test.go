package model

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/model/safetensors"
	"github.com/regen-dev/regen/executor/node"
)

// TestDecodeDataRejects breaks one thing at a time in a good checkpoint.
func TestDecodeDataRejects(t *testing.T) {
	t.Parallel()
	path := filepath.Join(modelsDir(), "checkpoints", "regen-els.safetensors")
	tests := []struct {
		name   string
		breakf func(f *safetensors.File)
		want   string
	}{
		{"format", func(f *safetensors.File) { f.Metadata["format"] = "regen-cfd-v0" }, "format"},
		{"mode", func(f *safetensors.File) { f.Metadata["mode"] = "unet" }, "mode"},
		{"channels", func(f *safetensors.File) { f.Metadata["latent_channels"] = "x" }, "latent_channels"},
		{"schedule", func(f *safetensors.File) { f.Metadata["linear_end"] = "2" }, "schedule"},
		{"width", func(f *safetensors.File) { f.Metadata["component_width"] = "0" }, "positive"},
		{"even patch", func(f *safetensors.File) { f.Metadata["patch_schedule"] = `[{"min_sigma":0,"size":4}]` }, "odd"},
		{"no patches", func(f *safetensors.File) { f.Metadata["patch_schedule"] = `[]` }, "patch schedule"},
		{"vocabulary", func(f *safetensors.File) { f.Metadata["vocabulary"] = `["red"]` }, "text.token_embedding"},
		{"missing exemplars", func(f *safetensors.File) { delete(f.Tensors, tExemplars) }, "exemplars.latents"},
		{"keys shape", func(f *safetensors.File) { f.Tensors[tKeys].Shape = []int{1, len(f.Tensors[tKeys].Data)} }, "exemplars.keys"},
		{"codebook sides", func(f *safetensors.File) { f.Metadata["vae_codebook_sides"] = `[7]` }, "vae.codebook.7"},
		{"patch dtype", func(f *safetensors.File) { f.Tensors["vae.codebook.32.patches"].DType = safetensors.F16 }, "want U8"},
		{"low freq", func(f *safetensors.File) { f.Metadata["low_freq"] = "9" }, "low_freq"},
		{"low freq decay", func(f *safetensors.File) { f.Metadata["low_freq_decay"] = "0" }, "low_freq_decay"},
		{"low freq width", func(f *safetensors.File) { f.Metadata["low_freq_width"] = "-1" }, "low_freq_width"},
		{"shift range", func(f *safetensors.File) { f.Metadata["shifts"] = `[[0, 0.5]]` }, "shift"},
		{"shift shape", func(f *safetensors.File) { f.Metadata["shifts"] = `[0.1]` }, "shifts"},
		{"local cells", func(f *safetensors.File) { f.Metadata["local_schedule"] = `[{"min_sigma":0,"cells":1}]` }, "local level"},
		{"local sigma", func(f *safetensors.File) { f.Metadata["local_schedule"] = `[{"min_sigma":-1,"cells":4}]` }, "local level"},
		{"local shape", func(f *safetensors.File) { f.Metadata["local_schedule"] = `{"cells":4}` }, "local_schedule"},
		{"unknown weight", func(f *safetensors.File) { f.Metadata["text_unknown_weight"] = "x" }, "text_unknown_weight"},
		{"generic scale", func(f *safetensors.File) { f.Metadata["generic_scale"], f.Metadata["generic_log_weight"] = "0", "-15" }, "generic_scale"},
		{"generic weight", func(f *safetensors.File) { f.Metadata["generic_scale"], f.Metadata["generic_log_weight"] = "1", "x" }, "generic_log_weight"},
		{"generic weight inf", func(f *safetensors.File) { f.Metadata["generic_scale"], f.Metadata["generic_log_weight"] = "1", "-Inf" }, "generic_log_weight"},
		{"generic max sigma", func(f *safetensors.File) {
			f.Metadata["generic_scale"], f.Metadata["generic_log_weight"], f.Metadata["generic_max_sigma"] = "1", "-15", "-1"
		}, "generic_max_sigma"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := safetensors.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := DecodeData(f); err != nil {
				t.Fatalf("good file rejected: %v", err)
			}
			tc.breakf(f)
			_, err = DecodeData(f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("DecodeData = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestQuantizePatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in, want float32
	}{
		{"black", 0, 0},
		{"white", 1, 1},
		{"below half a level", 0.49 / 255, 0},
		{"above half a level", 0.51 / 255, 1.0 / 255},
		{"mid grey", 0.5, 128.0 / 255},
		{"over range", 1.2, 1},
		{"under range", -0.1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := []float32{tc.in}
			QuantizePatch(v)
			if v[0] != tc.want {
				t.Errorf("QuantizePatch(%v) = %v, want %v", tc.in, v[0], tc.want)
			}
		})
	}
	// Every level is a fixed point, so quantising twice (generator, then
	// File) changes nothing.
	for k := 0; k <= 255; k++ {
		v := []float32{float32(k) / 255}
		QuantizePatch(v)
		if v[0] != float32(k)/255 {
			t.Fatalf("level %d moved to %v", k, v[0])
		}
	}
}

func TestDataRoundTrip(t *testing.T) {
	t.Parallel()
	f, err := safetensors.ReadFile(filepath.Join(modelsDir(), "checkpoints", "regen-gmm.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeData(f)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := d.File()
	if err != nil {
		t.Fatal(err)
	}
	a, err := safetensors.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := safetensors.Marshal(f2)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("decode → encode changed the file")
	}
}

func TestVAEDeterministicAndConsistent(t *testing.T) {
	t.Parallel()
	c := loadCkpt(t, "regen-gmm.safetensors")
	e := c.Model().set
	d := e.C * e.H * e.W
	x := &node.Tensor{Shape: []int{1, e.C, e.H, e.W}, Data: e.lat[5*d : 6*d]}
	a, err := c.VAE().Decode(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.VAE().Decode(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Pix {
		if math.Float32bits(a.Pix[i]) != math.Float32bits(b.Pix[i]) {
			t.Fatalf("decode differs at %d", i)
		}
	}
	// Encode(Decode(z)) ≈ z on the native codebook
	z, err := c.VAE().Encode(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	var se float64
	for i, v := range z.Data {
		dd := float64(v) - float64(x.Data[i])
		se += dd * dd
	}
	if rms := math.Sqrt(se / float64(len(z.Data))); rms > 0.05 {
		t.Errorf("Encode(Decode(z)) RMS error %.4f", rms)
	}
	if _, err := c.VAE().Decode(context.Background(), node.NewTensor(1, 3, 4, 4)); err == nil {
		t.Error("decoded a 3-channel latent")
	}
	if _, err := c.VAE().Encode(context.Background(), node.NewImage(1, 4, 4, 3)); err == nil {
		t.Error("encoded a 4×4 image")
	}
	// odd sizes crop like ComfyUI
	lat, err := c.VAE().Encode(context.Background(), node.NewImage(2, 20, 17, 3))
	if err != nil || lat.Shape[0] != 2 || lat.Shape[2] != 2 || lat.Shape[3] != 2 {
		t.Errorf("encode 20×17: %v %v", lat, err)
	}
}
