package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
)

// TestValidateLimits: a 16384² latent or a batch of 4096 is a validation
// error (value_bigger_than_max naming the server's flag) instead of an
// allocation of gigabytes; within the bounds, or unbounded, it validates.
func TestValidateLimits(t *testing.T) {
	t.Parallel()
	reg, err := node.NewRegistry(nodes.Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	prompt := func(latent string) string {
		return `{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
		 "2": ` + latent + `,
		 "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
		 "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}}`
	}
	empty := func(w, h, b int) string {
		return prompt(fmt.Sprintf(`{"class_type": "EmptyLatentImage", "inputs": {"width": %d, "height": %d, "batch_size": %d}}`, w, h, b))
	}
	tests := []struct {
		name   string
		limits Limits
		prompt string
		want   []string // substrings of node 2's errors; none means valid
	}{
		{name: "16384² latent", prompt: empty(16384, 16384, 1),
			want: []string{`"type":"value_bigger_than_max"`, `--max-pixels of 16777216`, `"input_name":"width"`, `"received_value":16384`}},
		{name: "batch 4096", prompt: empty(64, 64, 4096),
			want: []string{`"type":"value_bigger_than_max"`, `"message":"Value 4096 bigger than this server's --max-batch of 256"`, `"input_name":"batch_size"`}},
		{name: "both", prompt: empty(8192, 8192, 1000), want: []string{"--max-pixels", "--max-batch"}},
		{name: "SDXL size, batch 4", prompt: empty(1024, 1024, 4)},
		{name: "the default bounds exactly", prompt: empty(4096, 4096, 256)},
		{name: "a lower bound", limits: Limits{MaxPixels: 512 * 512, MaxBatch: 2}, prompt: empty(1024, 512, 3),
			want: []string{"--max-pixels of 262144", "--max-batch of 2"}},
		{name: "unbounded", limits: Limits{MaxPixels: -1, MaxBatch: -1}, prompt: empty(16384, 16384, 4096)},
		{name: "RepeatLatentBatch amount", limits: Limits{MaxBatch: 8}, prompt: `{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
		 "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
		 "2": {"class_type": "RepeatLatentBatch", "inputs": {"samples": ["5", 0], "amount": 9}},
		 "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
		 "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}}`,
			want: []string{`"input_name":"amount"`, "--max-batch of 8"}},
		{name: "LatentUpscale size", prompt: `{"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
		 "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
		 "2": {"class_type": "LatentUpscale", "inputs": {"samples": ["5", 0], "upscale_method": "nearest-exact", "width": 16384, "height": 8192, "crop": "disabled"}},
		 "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
		 "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}}`,
			want: []string{"width × height = 16384 × 8192"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := &validator{
				reg:    reg,
				limits: tc.limits.withDefaults(),
				combos: func(in node.Input) []string {
					if in.ComboFolder != "" {
						return []string{"m.safetensors"}
					}
					return in.Combo
				},
				env: func(string) *node.Env { return &node.Env{} },
			}
			g, perr := decodeGraph([]byte(tc.prompt))
			if perr != nil {
				t.Fatalf("decode: %+v", perr)
			}
			_, verr, ne := v.validate(g, nil)
			got, _ := json.Marshal(ne)
			if len(tc.want) == 0 {
				if verr != nil || ne.Len() != 0 {
					t.Fatalf("error %+v, node_errors %s: want valid", verr, got)
				}
				return
			}
			if verr == nil || verr.Type != "prompt_outputs_failed_validation" {
				t.Errorf("error = %+v, want prompt_outputs_failed_validation", verr)
			}
			e, ok := ne.Get("2")
			if !ok {
				t.Fatalf("node_errors %s: want node 2 blamed", got)
			}
			b, _ := json.Marshal(e)
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("node 2's errors lack %s:\n%s", w, b)
				}
			}
		})
	}
}

// TestRuntimeLimits: the backstop at execution refuses, before the node
// allocates, what validation could not see: a size through a link, an input
// already over the bounds, a scale_by that takes its input over them.
func TestRuntimeLimits(t *testing.T) {
	t.Parallel()
	reg, err := node.NewRegistry(nodes.Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	spec := func(class string) node.Spec {
		impl, ok := reg.Get(class)
		if !ok {
			t.Fatalf("no class %s", class)
		}
		return impl.Spec()
	}
	latent := func(b, h, w int) *node.Latent { return &node.Latent{Samples: &node.Tensor{Shape: []int{b, 4, h, w}}} }
	image := func(n, h, w int) *node.Image { return &node.Image{N: n, H: h, W: w, C: 3} }
	tests := []struct {
		name   string
		limits Limits
		class  string
		in     map[string]any
		want   string // substring of the error; "" means allowed
	}{
		{name: "linked width and height", class: "ImageScale",
			in:   map[string]any{"image": image(1, 64, 64), "width": int64(16384), "height": int64(16384)},
			want: "--max-pixels of 16777216"},
		{name: "within the bounds", class: "ImageScale",
			in: map[string]any{"image": image(1, 64, 64), "width": int64(1024), "height": int64(1024)}},
		{name: "an image input over the bounds", class: "ImageInvert",
			in:   map[string]any{"image": image(1, 8192, 4096)},
			want: "input image is 4096 × 8192 pixels"},
		{name: "a batch over the bounds", class: "ImageInvert", limits: Limits{MaxBatch: 4},
			in:   map[string]any{"image": image(5, 8, 8)},
			want: "batch of 5, more than this server's --max-batch of 4"},
		{name: "a latent counts its VAE scale", class: "LatentUpscaleBy", limits: Limits{MaxPixels: 512 * 512},
			in:   map[string]any{"samples": latent(1, 128, 64), "scale_by": 1.0},
			want: "input samples is 512 × 1024 pixels"},
		{name: "scale_by over the bounds", class: "LatentUpscaleBy",
			in:   map[string]any{"samples": latent(1, 512, 512), "scale_by": 2.0},
			want: "scaled by 2"},
		{name: "scale_by within the bounds", class: "LatentUpscaleBy",
			in: map[string]any{"samples": latent(1, 256, 256), "scale_by": 2.0}},
		{name: "unbounded", class: "LatentUpscaleBy", limits: Limits{MaxPixels: -1, MaxBatch: -1},
			in: map[string]any{"samples": latent(4096, 2048, 2048), "scale_by": 8.0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.limits.runtime(spec(tc.class), tc.in)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("runtime = %v, want allowed", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrLimit)):
				t.Errorf("runtime = %v, want an ErrLimit containing %q", err, tc.want)
			}
		})
	}
}

// hugeImage outputs an image header of h×w without pixels: a stand-in for
// an upstream node whose output grew past the bounds.
type hugeImage struct{}

func (hugeImage) Spec() node.Spec {
	return node.Spec{Name: "TestHugeImage", Inputs: []node.Input{{Name: "size", Type: node.TypeInt, Default: int64(1), Min: node.F(1), Max: node.F(1 << 20)}},
		Outputs: []node.Output{{Type: node.TypeImage}}}
}

func (hugeImage) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	s := int(in["size"].(int64))
	return node.Result{Outputs: []any{&node.Image{N: 1, H: s, W: s, C: 3}}}, nil
}

// The engine applies the backstop to every node call: the node downstream
// of an over-sized output fails with the limit named, before it runs.
func TestEngineRefusesAnOverSizedInputAtRuntime(t *testing.T) {
	t.Parallel()
	reg, err := node.NewRegistry(append(nodes.Builtin(), hugeImage{})...)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(true)
	dir := t.TempDir()
	en, err := New(Options{Registry: reg, Backend: cpu.New(), Sink: rec, Logger: slog.New(slog.DiscardHandler),
		Dirs: node.Dirs{Models: dir + "/m", Input: dir + "/i", Output: dir + "/o", Temp: dir + "/t"}})
	if err != nil {
		t.Fatal(err)
	}
	_, pd := runOne(t, en, rec, `{"prompt": {"1": {"class_type": "TestHugeImage", "inputs": {"size": 8192}},
		"2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
		"3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}}}`)
	if pd.Outcome != OutcomeError {
		t.Fatalf("outcome %s, want error", pd.Outcome)
	}
	msgs, _ := json.Marshal(pd.Entry)
	for _, want := range []string{`"node_id":"2"`, "input image is 8192 × 8192 pixels", "--max-pixels of 16777216"} {
		if !strings.Contains(string(msgs), want) {
			t.Errorf("history entry lacks %s:\n%s", want, msgs)
		}
	}
}
