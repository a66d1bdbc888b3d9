package engine

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
)

// A V3 class is described and its COMBO validated as ComfyUI 0.33.0 does
// (asdict(NodeInfoV1); input_config ("COMBO", as_dict)); a V1 class keeps
// the V1 layout with 0.33.0's extra fields.
func TestObjectInfoLayouts(t *testing.T) {
	t.Parallel()
	combos := func(in node.Input) []string { return in.Combo }
	tests := []struct {
		name string
		spec node.Spec
		want string
	}{
		{
			name: "V3",
			spec: node.Spec{Name: "X", DisplayName: "X", Category: "c", Module: "comfy_extras.x", V3: true,
				Inputs: []node.Input{
					{Name: "m", Type: "MODEL"},
					{Name: "pick", Combo: []string{"a", "b"}},
					{Name: "f", Type: node.TypeFloat, Default: 1.0, Min: node.F(0), Max: node.F(2), Step: node.F(0.5), NoRound: true, Advanced: true},
				},
				Outputs: []node.Output{{Type: "SIGMAS", Name: "high"}}},
			want: `{"input":{"required":{"m":["MODEL",{}],"pick":["COMBO",{"multiselect":false,"options":["a","b"]}],` +
				`"f":["FLOAT",{"advanced":true,"default":1.0,"min":0.0,"max":2.0,"step":0.5,"round":false}]}},` +
				`"input_order":{"required":["m","pick","f"]},"is_input_list":false,"output":["SIGMAS"],"output_is_list":[false],` +
				`"output_name":["high"],"output_tooltips":[null],"output_matchtypes":null,"name":"X","display_name":null,"description":"",` +
				`"python_module":"comfy_extras.x","category":"c","output_node":false,"deprecated":false,"experimental":false,"dev_only":false,` +
				`"api_node":false,"price_badge":null,"search_aliases":null,"essentials_category":null,"has_intermediate_output":false}`,
		},
		{
			name: "V1",
			spec: node.Spec{Name: "Y", DisplayName: "Why", Category: "c", SearchAliases: []string{"y"}, EssentialsCategory: "Basics",
				Inputs: []node.Input{{Name: "pick", Combo: []string{"a"}, Advanced: true}, {Name: "i", Type: "IMAGE"}}},
			want: `{"input":{"required":{"pick":[["a"],{"advanced":true}],"i":["IMAGE"]}},"input_order":{"required":["pick","i"]},` +
				`"is_input_list":false,"output":[],"output_is_list":[],"output_name":[],"name":"Y","display_name":"Why","description":"",` +
				`"python_module":"nodes","category":"c","output_node":false,"has_intermediate_output":false,"search_aliases":["y"],"essentials_category":"Basics"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(nodeInfo(tc.spec, combos))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("nodeInfo:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestValidateV3Combo(t *testing.T) {
	t.Parallel()
	reg, err := node.NewRegistry(nodes.Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	ne := validateSigmasNode(t, reg, `{"class_type": "BasicScheduler", "inputs": {"model": ["2", 0], "scheduler": "bogus", "steps": 4, "denoise": 1}}`)
	e, ok := ne.Get("1")
	if !ok {
		t.Fatal("BasicScheduler not blamed")
	}
	b, _ := json.Marshal(e.Errors)
	want := `"input_config":["COMBO",{"multiselect":false,"options":["simple",`
	if !strings.Contains(string(b), want) || !strings.Contains(string(b), `"details":"scheduler: 'bogus' not in ['simple', `) {
		t.Errorf("errors %s\nwant input_config %s... and the option list in details", b, want)
	}
}

// VAELoader lists the files of models/vae, then "pixel_space" (ComfyUI
// 0.33.0 nodes.py VAELoader.vae_list; a real 0.33.0 with no VAE files
// answers [["pixel_space"]]).
func TestObjectInfoVAELoaderListsPixelSpace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"no vae folder", nil, `{"VAELoader":{"input":{"required":{"vae_name":[["pixel_space"]]}}`},
		{"two files", []string{"b.safetensors", "a.safetensors"}, `{"VAELoader":{"input":{"required":{"vae_name":[["a.safetensors","b.safetensors","pixel_space"]]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, err := node.NewRegistry(nodes.Builtin()...)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, f := range tc.files {
				if err := os.MkdirAll(filepath.Join(dir, "vae"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "vae", f), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			en, err := New(Options{Registry: reg, Backend: cpu.New(), Dirs: node.Dirs{Models: dir, Input: dir + "/input", Output: dir + "/output", Temp: dir + "/temp"},
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			info, _ := en.ObjectInfoClass("VAELoader")
			got, err := json.Marshal(info)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(got), tc.want) {
				t.Errorf("object_info\n got %s\nwant %s...", got, tc.want)
			}
			// One resolver lists a folder once: the extra value is not
			// added to the list other inputs of that folder get.
			combos := en.comboResolver()
			vae := node.Input{Name: "v", ComboFolder: "vae", ComboExtra: []string{"pixel_space"}}
			plain := node.Input{Name: "p", ComboFolder: "vae"}
			a, b, c := combos(vae), combos(plain), combos(vae)
			if len(a) != len(tc.files)+1 || len(b) != len(tc.files) || len(c) != len(a) {
				t.Errorf("lists %q, %q, %q", a, b, c)
			}
		})
	}
}

// SDTurboScheduler's denoise declares min=0, a Python int: a real 0.33.0
// answers "min": 0 in /object_info and in input_config, and words the
// validation message "Value -1.0 smaller than min of 0".
func TestSDTurboSchedulerIntegerMin(t *testing.T) {
	t.Parallel()
	reg, err := node.NewRegistry(nodes.Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	const wantCfg = `"denoise":["FLOAT",{"default":1.0,"min":0,"max":1.0,"step":0.01}]`
	impl, _ := reg.Get("SDTurboScheduler")
	info, err := json.Marshal(nodeInfo(impl.Spec(), func(in node.Input) []string { return in.Combo }))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), wantCfg) {
		t.Errorf("object_info %s\nwant %s", info, wantCfg)
	}
	ne := validateSigmasNode(t, reg, `{"class_type": "SDTurboScheduler", "inputs": {"model": ["2", 0], "steps": 1, "denoise": -1}}`)
	e, ok := ne.Get("1")
	if !ok {
		t.Fatal("SDTurboScheduler not blamed")
	}
	b, _ := json.Marshal(e.Errors)
	want := `[{"type":"value_smaller_than_min","message":"Value -1.0 smaller than min of 0","details":"denoise","extra_info":{"input_name":"denoise","input_config":["FLOAT",{"default":1.0,"min":0,"max":1.0,"step":0.01}],"received_value":-1.0}}]`
	if string(b) != want {
		t.Errorf("errors\n got %s\nwant %s", b, want)
	}
}

// validateSigmasNode validates a SamplerCustom graph whose sigmas come from
// node "1", given as its JSON, and returns the node errors.
func validateSigmasNode(t *testing.T, reg *node.Registry, node1 string) *NodeErrors {
	t.Helper()
	v := &validator{reg: reg, limits: Limits{}.withDefaults(), combos: func(in node.Input) []string { return in.Combo },
		env: func(string) *node.Env { return &node.Env{} }}
	g, perr := decodeGraph([]byte(`{"1": ` + node1 + `,
		"2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m"}},
		"3": {"class_type": "SamplerCustom", "inputs": {"model": ["2", 0], "add_noise": true, "noise_seed": 1, "cfg": 1, "positive": ["4", 0], "negative": ["4", 0],
			"sampler": ["5", 0], "sigmas": ["1", 0], "latent_image": ["6", 0]}},
		"4": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 1]}},
		"5": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
		"6": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
		"7": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["2", 2]}},
		"8": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}}`))
	if perr != nil {
		t.Fatalf("decode: %+v", perr)
	}
	_, _, ne := v.validate(g, nil)
	return ne
}
