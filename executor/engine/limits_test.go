package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

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
