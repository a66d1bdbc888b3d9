package latent

import (
	"slices"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
)

func TestLatentNodeSpecs(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"EmptyLatentImage": "model/latent", "LatentUpscale": "model/latent", "LatentUpscaleBy": "model/latent",
		"LatentFromBatch": "model/latent/batch", "RepeatLatentBatch": "model/latent/batch",
		"LatentAdd": "model/latent/advanced", "LatentMultiply": "model/latent/advanced",
		"VAEDecode": "model/latent", "VAEEncode": "model/latent",
	}
	reg, err := node.NewRegistry(Nodes()...)
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Names(); len(got) != len(want) {
		t.Fatalf("nodes %v, want %d", got, len(want))
	}
	for name, cat := range want {
		n, ok := reg.Get(name)
		if !ok {
			t.Errorf("%s not registered", name)
			continue
		}
		if n.Spec().Category != cat {
			t.Errorf("%s: category %q, want %q", name, n.Spec().Category, cat)
		}
	}
	dec, _ := reg.Get("VAEDecode")
	enc, _ := reg.Get("VAEEncode")
	for _, tc := range []struct {
		spec    node.Spec
		inputs  []string
		outputs []string
	}{
		{dec.Spec(), []string{"samples", "vae"}, []string{"IMAGE"}},
		{enc.Spec(), []string{"pixels", "vae"}, []string{"LATENT"}},
	} {
		var in, out []string
		for _, i := range tc.spec.Inputs {
			in = append(in, i.Name)
		}
		for _, o := range tc.spec.Outputs {
			out = append(out, o.Type)
		}
		if !slices.Equal(in, tc.inputs) || !slices.Equal(out, tc.outputs) {
			t.Errorf("%s: inputs %v outputs %v, want %v %v", tc.spec.Name, in, out, tc.inputs, tc.outputs)
		}
	}
}

func TestEmptyLatentImage(t *testing.T) {
	t.Parallel()
	out := nodetest.Exec(t, emptyNode{}, nil, map[string]any{"width": int64(512), "height": int64(768), "batch_size": int64(3)})
	if s := nodetest.Samples(t, out[0]); !slices.Equal(s.Shape, []int{3, 4, 96, 64}) {
		t.Fatalf("shape %v", s.Shape)
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
		{"upscale to 256x128", upscaleNode{}, map[string]any{"samples": lat, "upscale_method": "nearest-exact", "width": int64(256), "height": int64(128), "crop": "disabled"}, []int{2, 4, 16, 32}, nil},
		{"upscale keeps aspect when width is 0", upscaleNode{}, map[string]any{"samples": lat, "upscale_method": "bilinear", "width": int64(0), "height": int64(128), "crop": "disabled"}, []int{2, 4, 16, 32}, nil},
		{"upscale clamps to 64 px", upscaleNode{}, map[string]any{"samples": lat, "upscale_method": "bislerp", "width": int64(16), "height": int64(16), "crop": "center"}, []int{2, 4, 8, 8}, nil},
		{"upscale 0x0 passes through", upscaleNode{}, map[string]any{"samples": lat, "upscale_method": "area", "width": int64(0), "height": int64(0), "crop": "disabled"}, []int{2, 4, 8, 16}, nil},
		{"upscale by 1.5", upscaleByNode{}, map[string]any{"samples": lat, "upscale_method": "bicubic", "scale_by": 1.5}, []int{2, 4, 12, 24}, nil},
		{"repeat batch", repeatBatchNode{}, map[string]any{"samples": lat, "amount": int64(3)}, []int{6, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if !slices.Equal(l.Samples.Data[:512], l.Samples.Data[1024:1536]) {
				t.Fatal("repeat did not tile")
			}
		}},
		{"from batch clamps", fromBatchNode{}, map[string]any{"samples": lat, "batch_index": int64(5), "length": int64(3)}, []int{1, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if !slices.Equal(l.BatchIndex, []int{1}) {
				t.Fatalf("batch_index %v", l.BatchIndex)
			}
		}},
		{"from batch counts a negative index from the end", fromBatchNode{}, map[string]any{"samples": lat, "batch_index": int64(-1), "length": int64(3)}, []int{1, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if !slices.Equal(l.BatchIndex, []int{1}) || !slices.Equal(l.Samples.Data, lat.Samples.Data[512:]) {
				t.Fatalf("batch_index %v, want the last sample", l.BatchIndex)
			}
		}},
		{"from batch clamps a negative index", fromBatchNode{}, map[string]any{"samples": lat, "batch_index": int64(-7), "length": int64(1)}, []int{1, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if !slices.Equal(l.BatchIndex, []int{0}) {
				t.Fatalf("batch_index %v, want the first sample", l.BatchIndex)
			}
		}},
		{"multiply", multiplyNode{}, map[string]any{"samples": lat, "multiplier": -2.0}, []int{2, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if l.Samples.Data[5] != -10 || lat.Samples.Data[5] != 5 {
				t.Fatal("multiply wrong or modified its input")
			}
		}},
		{"add", addNode{}, map[string]any{"samples1": lat, "samples2": lat}, []int{2, 4, 8, 16}, func(t *testing.T, l *node.Latent) {
			if l.Samples.Data[6] != 12 {
				t.Fatalf("add gave %v", l.Samples.Data[6])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := nodetest.Exec(t, tc.n, nil, tc.in)[0].(*node.Latent)
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
	r := nodetest.Exec(t, repeatBatchNode{}, nil, map[string]any{"samples": picked, "amount": int64(3)})[0].(*node.Latent)
	if !slices.Equal(r.BatchIndex, []int{3, 4, 5, 6, 7, 8}) {
		t.Fatalf("batch_index %v", r.BatchIndex)
	}
}

func TestLatentNodeErrors(t *testing.T) {
	t.Parallel()
	flat := &node.Latent{Samples: node.NewTensor(4, 8, 8)}
	ok := nodetest.Latent(1, 8, 8)
	tests := []struct {
		name string
		n    node.Node
		in   map[string]any
		want string
	}{
		{"samples missing", multiplyNode{}, map[string]any{"multiplier": 1.0}, "input samples: missing"},
		{"samples not 4-D", multiplyNode{}, map[string]any{"samples": flat, "multiplier": 1.0}, "input samples: latent samples must be [B, C, h, w]"},
		{"samples without a tensor", repeatBatchNode{}, map[string]any{"samples": &node.Latent{}, "amount": int64(2)}, "input samples: latent samples must be [B, C, h, w]"},
		{"second input named", addNode{}, map[string]any{"samples1": ok, "samples2": flat}, "input samples2: latent samples must be [B, C, h, w]"},
		{"first error wins", addNode{}, map[string]any{"samples1": flat, "samples2": "x"}, "input samples1: latent samples must be [B, C, h, w]"},
		{"multiplier wrong type", multiplyNode{}, map[string]any{"samples": ok, "multiplier": "2"}, "input multiplier: got string, want FLOAT"},
		{"channels differ", addNode{}, map[string]any{"samples1": ok, "samples2": &node.Latent{Samples: node.NewTensor(1, 3, 8, 8)}}, "latent add: 3 channels vs 4"},
		{"empty latent too small", emptyNode{}, map[string]any{"width": int64(4), "height": int64(8), "batch_size": int64(1)}, "empty latent: size 4x8 batch 1 out of range"},
		{"vae not a VAE", vaeDecodeNode{}, map[string]any{"samples": ok, "vae": "x"}, "input vae: got string, want node.VAE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.n.Execute(t.Context(), nil, tc.in)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
