package workflow

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func mustPrompt(tb testing.TB, s string) Prompt {
	tb.Helper()
	p, err := ParsePrompt([]byte(s))
	if err != nil {
		tb.Fatalf("parse prompt: %v", err)
	}
	return p
}

const pinPrompt = `{
 "1": {"class_type": "Sampler", "inputs": {"seed": 5, "steps": 20, "sampler_name": "euler"}},
 "2": {"class_type": "KSamplerAdvanced", "inputs": {"noise_seed": 6, "steps": 20}},
 "3": {"class_type": "Sampler", "inputs": {"seed": ["9", 0], "steps": 4}},
 "9": {"class_type": "Legacy", "inputs": {"noise_seed": 1, "cfg": 7}},
 "10": {"class_type": "Custom", "inputs": {"variation": 3}},
 "11": {"class_type": "Words", "inputs": {"seed": "not a number"}}
}`

func TestPin(t *testing.T) {
	t.Parallel()
	info := parseInfo(t)
	info["Words"] = &NodeInfo{Input: Inputs{Required: Section{Names: []string{"seed"}, Specs: map[string]InputSpec{"seed": {Type: "STRING"}}}}}
	info["Custom"] = &NodeInfo{Input: Inputs{Required: Section{Names: []string{"variation"}, Specs: map[string]InputSpec{
		"variation": {Type: "INT", Options: map[string]any{"control_after_generate": true, "max": json.Number("4294967295")}},
	}}}}
	tests := []struct {
		name       string
		seed       uint64
		info       ObjectInfo
		wantPinned []string
		wantLinked []string
		wantErr    string
	}{
		{name: "by name and by control_after_generate flag", seed: 123, info: info,
			wantPinned: []string{"1.seed", "2.noise_seed", "9.noise_seed", "10.variation"}, wantLinked: []string{"3.seed"}},
		{name: "without object_info only seed names", seed: 7, info: nil,
			wantPinned: []string{"1.seed", "2.noise_seed", "9.noise_seed"}, wantLinked: []string{"3.seed"}},
		{name: "seed above an input's max", seed: 1 << 40, info: info,
			wantErr: "10.variation (Custom): seed 1099511627776 is above its max 4294967295"},
		{name: "largest uint64 fits a 64-bit seed", seed: 18446744073709551615, info: nil,
			wantPinned: []string{"1.seed", "2.noise_seed", "9.noise_seed"}, wantLinked: []string{"3.seed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			orig := mustPrompt(t, pinPrompt)
			got, res, err := Pin(orig, tt.seed, tt.info)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := refs(res.Pinned); !reflect.DeepEqual(g, tt.wantPinned) {
				t.Errorf("pinned = %v, want %v", g, tt.wantPinned)
			}
			if g := refs(res.Linked); !reflect.DeepEqual(g, tt.wantLinked) {
				t.Errorf("linked = %v, want %v", g, tt.wantLinked)
			}
			for _, r := range res.Pinned {
				if v := got[r.Node].Inputs[r.Input]; v != json.Number(jsonUint(tt.seed)) {
					t.Errorf("%s = %v, want %d", r, v, tt.seed)
				}
			}
			if orig["1"].Inputs["seed"] != json.Number("5") {
				t.Error("Pin modified its input")
			}
			if got["1"].Inputs["steps"] != json.Number("20") {
				t.Error("Pin changed a non-seed input")
			}
		})
	}
}

func jsonUint(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func refs(rs []InputRef) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Node+"."+r.Input)
	}
	return out
}

func TestApplyAliases(t *testing.T) {
	t.Parallel()
	p := mustPrompt(t, `{
	 "1": {"class_type": "Loader", "inputs": {"ckpt_name": "v1-5.safetensors"}},
	 "2": {"class_type": "LoraLoader", "inputs": {"lora_name": "style.safetensors", "strength_model": 1}},
	 "3": {"class_type": "Text", "inputs": {"text": "v1-5.safetensors"}},
	 "4": {"class_type": "Picker", "inputs": {"choice": "v1-5.safetensors"}},
	 "5": {"class_type": "Loader", "inputs": {"ckpt_name": "other.safetensors"}}
	}`)
	info := parseInfo(t)
	info["Picker"] = &NodeInfo{Input: Inputs{Required: Section{Names: []string{"choice"}, Specs: map[string]InputSpec{
		"choice": {Type: "COMBO", Choices: []any{"v1-5.safetensors"}}}}}}
	aliases := map[string]string{"v1-5.safetensors": "tiny.safetensors", "style.safetensors": "tiny-lora.safetensors"}
	got, done := ApplyAliases(p, aliases, info)
	want := map[string]any{"1.ckpt_name": "tiny.safetensors", "2.lora_name": "tiny-lora.safetensors",
		"3.text": "v1-5.safetensors", "4.choice": "tiny.safetensors", "5.ckpt_name": "other.safetensors"}
	for k, v := range want {
		id, in, _ := strings.Cut(k, ".")
		if got[id].Inputs[in] != v {
			t.Errorf("%s = %v, want %v", k, got[id].Inputs[in], v)
		}
	}
	if len(done) != 3 {
		t.Errorf("aliases applied = %+v, want 3", done)
	}
}

func TestOverridesApply(t *testing.T) {
	t.Parallel()
	base := `{
	 "1": {"class_type": "KSampler", "inputs": {"sampler_name": "euler", "scheduler": "normal", "steps": 20, "cfg": 8, "denoise": 1}},
	 "2": {"class_type": "KSamplerAdvanced", "inputs": {"sampler_name": "euler", "scheduler": ["7", 0], "steps": 30, "cfg": 7}},
	 "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
	 "6": {"class_type": "ImageScale", "inputs": {"width": 1024, "height": 1024}}
	}`
	intp := func(v int) *int { return &v }
	fp := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		o       Overrides
		want    map[string]any // "node.input" → value
		wantErr string
	}{
		{name: "sampler and steps everywhere", o: Overrides{SamplerName: "heun", Steps: intp(4)},
			want: map[string]any{"1.sampler_name": "heun", "2.sampler_name": "heun", "1.steps": json.Number("4"), "2.steps": json.Number("4")}},
		{name: "linked input left alone", o: Overrides{Scheduler: "karras"},
			want: map[string]any{"1.scheduler": "karras"}},
		{name: "cfg and denoise as numbers", o: Overrides{CFG: fp(3.5), Denoise: fp(0.6)},
			want: map[string]any{"1.cfg": json.Number("3.5"), "2.cfg": json.Number("3.5"), "1.denoise": json.Number("0.6")}},
		{name: "size only on the empty latent", o: Overrides{Width: intp(64), Height: intp(48)},
			want: map[string]any{"5.width": json.Number("64"), "5.height": json.Number("48"), "6.width": json.Number("1024")}},
		{name: "override that matches nothing", o: Overrides{Denoise: fp(0.5), BatchSize: intp(2), SamplerName: "x"},
			wantErr: "apply overrides: denoise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustPrompt(t, base)
			if tt.name == "override that matches nothing" {
				delete(p["1"].Inputs, "denoise")
			}
			got, _, err := tt.o.Apply(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				id, in, _ := strings.Cut(k, ".")
				if got[id].Inputs[in] != v {
					t.Errorf("%s = %#v, want %#v", k, got[id].Inputs[in], v)
				}
			}
			if _, _, ok := AsLink(got["2"].Inputs["scheduler"]); !ok {
				t.Error("linked scheduler was overwritten")
			}
		})
	}
}

func TestCaseID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		wf, variant string
		seed        uint64
		want        string
	}{
		{"sd15-default", "", 42, "sd15-default/seed=42"},
		{"sd15-default", "heun-karras", 7, "sd15-default[heun-karras]/seed=7"},
		{"x", "", 18446744073709551615, "x/seed=18446744073709551615"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := CaseID(tt.wf, tt.variant, tt.seed); got != tt.want {
				t.Errorf("CaseID = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	info := parseInfo(t)
	tests := []struct {
		name   string
		prompt string
		want   []string // substrings of the error; none means valid
	}{
		{name: "valid", prompt: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}},
		  "2": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 1, "steps": 2, "sampler_name": "euler", "text": "x"}},
		  "3": {"class_type": "Save", "inputs": {"latent": ["2", 0], "prefix": "p"}}}`},
		{name: "every problem listed", prompt: `{"1": {"class_type": "Nope", "inputs": {}},
		  "2": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 1, "sampler_name": "euler", "text": ["8", 0]}},
		  "3": {"class_type": "Save", "inputs": {"latent": ["2", 3], "prefix": "p"}}}`,
			want: []string{`node 1 (Nope): node type "Nope" is not in`, "node 2 (Sampler) input steps: required input missing",
				"input text: linked to node 8, which is not in the prompt", "linked to output 3 of node 2 (Sampler), which has 1 outputs",
				"(4 problems)"}},
		{name: "no output node", prompt: `{"1": {"class_type": "Text", "inputs": {"text": "x"}}}`,
			want: []string{"no output node"}},
		{name: "values and link types", prompt: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "v1-5.safetensors"}},
		  "2": {"class_type": "Sampler", "inputs": {"model": ["1", 1], "seed": -1, "steps": "many", "sampler_name": "heun", "text": "x"}},
		  "3": {"class_type": "Save", "inputs": {"latent": ["2", 0], "prefix": "p"}},
		  "4": {"class_type": "Load", "inputs": {"image": "uploaded-later.png", "channel": "red"}},
		  "5": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 18446744073709551615, "steps": 1, "sampler_name": "euler", "text": "x"}},
		  "6": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 18446744073709551616, "steps": 1, "sampler_name": "euler", "text": "x"}},
		  "7": {"class_type": "List", "inputs": {"values": {"__value__": ["p", "q"]}}},
		  "8": {"class_type": "List", "inputs": {"values": {"__value__": ["p", "z"]}}}}`,
			want: []string{`node 1 (Loader) input ckpt_name: value "v1-5.safetensors" not in the target's list (2 choices) [value_not_in_list]; map the name to one the target has with a model alias`,
				"node 2 (Sampler) input model: linked to output 1 of node 1 (Loader) of type CLIP, want MODEL",
				"node 2 (Sampler) input seed: value -1 is smaller than min 0",
				`node 2 (Sampler) input steps: value "many" is not a number`,
				"node 6 (Sampler) input seed: value 18446744073709551616 is bigger than max 18446744073709551615",
				`node 8 (List) input values: value "z" not in the target's list`,
				"(6 problems)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(mustPrompt(t, tt.prompt), info)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestPromptJSONDeterministic(t *testing.T) {
	t.Parallel()
	p := mustPrompt(t, `{"10": {"class_type": "B", "inputs": {"z": 1, "a": "<&>"}}, "2": {"class_type": "A", "inputs": {}},
	  "save_ws": {"class_type": "C", "inputs": {"b": ["2", 0]}}, "9": {"class_type": "D", "inputs": {}, "_meta": {"title": "t"}}}`)
	want := `{"2":{"class_type":"A","inputs":{}},"9":{"class_type":"D","inputs":{},"_meta":{"title":"t"}},` +
		`"10":{"class_type":"B","inputs":{"a":"<&>","z":1}},"save_ws":{"class_type":"C","inputs":{"b":["2",0]}}}`
	for i := range 20 {
		b, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Fatalf("run %d: got %s\nwant %s", i, b, want)
		}
	}
	h1, _ := p.Hash()
	p2 := p.Clone()
	p2["2"].Inputs["x"] = json.Number("1")
	h2, _ := p2.Hash()
	if h1 == h2 || len(h1) != 64 {
		t.Errorf("hashes %s %s: want distinct sha256 hex", h1, h2)
	}
}

func TestNaturalLess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"2", "10", true}, {"10", "2", false}, {"10", "10:3", true}, {"9", "a", true},
		{"a2", "a10", true}, {"007", "7", false}, {"7", "007", true}, {"x", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"<"+tt.b, func(t *testing.T) {
			t.Parallel()
			if got := naturalLess(tt.a, tt.b); got != tt.want {
				t.Errorf("naturalLess(%q, %q) = %v", tt.a, tt.b, got)
			}
		})
	}
}

// TestValidateEmptyOptionList: a COMBO whose option list is empty (a server
// with no checkpoint or VAE files) accepts no value, as ComfyUI answers
// value_not_in_list; an upload combo is left to the node, as LoadImage's
// VALIDATE_INPUTS is in ComfyUI.
func TestValidateEmptyOptionList(t *testing.T) {
	t.Parallel()
	info, err := ParseObjectInfo([]byte(`{
	 "Ckpt": {"input": {"required": {"ckpt_name": [[]]}}, "output": ["MODEL"]},
	 "Vae": {"input": {"required": {"vae_name": ["COMBO", {"options": []}]}}, "output": ["VAE"]},
	 "V3": {"input": {"required": {"mode": ["COMBO", {}]}}, "output": ["INT"]},
	 "Img": {"input": {"required": {"image": [[], {"image_upload": true}]}}, "output": ["IMAGE"], "output_node": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, prompt, want string // want "" means valid
	}{
		{name: "V1 empty list", prompt: `{"1": {"class_type": "Ckpt", "inputs": {"ckpt_name": "v1-5.safetensors"}}, "9": {"class_type": "Img", "inputs": {"image": "a.png"}}}`,
			want: `node 1 (Ckpt) input ckpt_name: value "v1-5.safetensors" not in the target's list, which is empty [value_not_in_list]; map the name`},
		{name: "V3 empty options", prompt: `{"1": {"class_type": "Vae", "inputs": {"vae_name": "a.safetensors"}}, "9": {"class_type": "Img", "inputs": {"image": "a.png"}}}`,
			want: `node 1 (Vae) input vae_name: value "a.safetensors" not in the target's list, which is empty [value_not_in_list]`},
		{name: "V3 without options", prompt: `{"1": {"class_type": "V3", "inputs": {"mode": "x"}}, "9": {"class_type": "Img", "inputs": {"image": "a.png"}}}`,
			want: `node 1 (V3) input mode: value "x" not in the target's list, which is empty`},
		{name: "upload combo left to the node", prompt: `{"9": {"class_type": "Img", "inputs": {"image": "a.png"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(mustPrompt(t, tt.prompt), info)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestValidateIntAsServer: an INT is checked after the server's int(val):
// a float is truncated toward zero before min/max, a string must be an
// integer literal.
func TestValidateIntAsServer(t *testing.T) {
	t.Parallel()
	info, err := ParseObjectInfo([]byte(`{"N": {"input": {"required": {"n": ["INT", {"min": 0, "max": 100}]}}, "output_node": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value, want string // want "" means valid
	}{
		{value: `100.9`},
		{value: `-0.5`},
		{value: `"12"`},
		{value: `-1.5`, want: "smaller than min 0 [value_smaller_than_min]"},
		{value: `101`, want: "bigger than max 100 [value_bigger_than_max]"},
		{value: `"8.5"`, want: `value "8.5" is not an integer [invalid_input_type]`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			err := Validate(mustPrompt(t, `{"1": {"class_type": "N", "inputs": {"n": `+tt.value+`}}}`), info)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestValidateCycle: every node on a cycle of links is reported as
// dependency_cycle (ComfyUI 0.33.0), a self-link too; nodes that only feed
// or read the cycle are not.
func TestValidateCycle(t *testing.T) {
	t.Parallel()
	info, err := ParseObjectInfo([]byte(`{
	 "Op": {"input": {"required": {"a": ["IMAGE"]}, "optional": {"b": ["IMAGE"]}}, "output": ["IMAGE"]},
	 "Src": {"input": {"required": {}}, "output": ["IMAGE"]},
	 "Out": {"input": {"required": {"images": ["IMAGE"]}}, "output": [], "output_node": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, prompt string
		want         []string // node ids reported as a cycle, in order
	}{
		{name: "acyclic", prompt: `{"1": {"class_type": "Src", "inputs": {}},
		  "2": {"class_type": "Op", "inputs": {"a": ["1", 0], "b": ["1", 0]}},
		  "3": {"class_type": "Out", "inputs": {"images": ["2", 0]}}}`},
		{name: "three-node cycle", prompt: `{"1": {"class_type": "Src", "inputs": {}},
		  "2": {"class_type": "Op", "inputs": {"a": ["4", 0], "b": ["1", 0]}},
		  "3": {"class_type": "Op", "inputs": {"a": ["2", 0]}},
		  "4": {"class_type": "Op", "inputs": {"a": ["3", 0]}},
		  "5": {"class_type": "Out", "inputs": {"images": ["4", 0]}}}`,
			want: []string{"2", "3", "4"}},
		{name: "self link", prompt: `{"1": {"class_type": "Src", "inputs": {}},
		  "2": {"class_type": "Op", "inputs": {"a": ["1", 0], "b": ["2", 0]}},
		  "3": {"class_type": "Out", "inputs": {"images": ["2", 0]}}}`,
			want: []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(mustPrompt(t, tt.prompt), info)
			var got []string
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					if strings.Contains(p.Reason, "[dependency_cycle]") {
						got = append(got, p.Node)
					}
				}
			} else if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("cycle nodes = %v, want %v (error: %v)", got, tt.want, err)
			}
		})
	}
}

// TestValidateWithFiles: an upload combo's file must be in the server's
// list (ComfyUI's LoadImage.VALIDATE_INPUTS), except in a subfolder or with
// an annotation, which the list never shows; Validate leaves files alone.
func TestValidateWithFiles(t *testing.T) {
	t.Parallel()
	info, err := ParseObjectInfo([]byte(`{
	 "Img": {"input": {"required": {"image": [["a.png", "b.png"], {"image_upload": true}]}}, "output": ["IMAGE"], "output_node": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		image, want string // want "" means valid
	}{
		{image: "a.png"},
		{image: "sub/c.png"},
		{image: "c.png [output]"},
		{image: "c.png", want: `node 1 (Img) input image: file "c.png" is not in the target's input folder (2 files); upload it first [custom_validation_failed: Invalid image file]`},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			t.Parallel()
			p := mustPrompt(t, `{"1": {"class_type": "Img", "inputs": {"image": `+strconv.Quote(tt.image)+`}}}`)
			if err := Validate(p, info); err != nil {
				t.Fatalf("Validate: %v (want files left alone)", err)
			}
			err := ValidateWithFiles(p, info)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("ValidateWithFiles: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("ValidateWithFiles = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestValidateNoAliasesBlamesTheServer: where no model alias applies (a
// profile for a real ComfyUI), a missing model is the server's missing
// file, named with its folder and the files it listed; with aliases in play
// the hint stays the alias. With the suite profile given, the hint names it
// and what it maps; with its aliases applied already (a run's plan), which
// alias led to the missing name, and no --alias.
func TestValidateNoAliasesBlamesTheServer(t *testing.T) {
	t.Parallel()
	info := parseInfo(t)
	p := mustPrompt(t, `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "v1-5.safetensors"}},
	  "2": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 1, "steps": 2, "sampler_name": "euler", "text": "x"}},
	  "3": {"class_type": "Save", "inputs": {"latent": ["2", 0], "prefix": "p"}}}`)
	maps := &AliasProfile{Name: "default", Reason: "the target is regen-executor", Aliases: map[string]string{"v1-5.safetensors": "a.safetensors"}}
	other := &AliasProfile{Name: "default", Reason: "named by --profile", Aliases: map[string]string{"sdxl.safetensors": "b.safetensors"}}
	none := &AliasProfile{Name: "comfyui-sd15", Reason: "the suite's profile for comfyui targets"}
	mapsTo := &AliasProfile{Name: "default", Reason: "no --profile", Applied: true,
		Aliases: map[string]string{"sd15.safetensors": "v1-5.safetensors", "sdxl.safetensors": "b.safetensors"}}
	appliedOther := &AliasProfile{Name: "default", Reason: "named by --profile", Applied: true, Aliases: other.Aliases}
	tests := []struct {
		name      string
		noAliases bool
		profile   *AliasProfile
		want, not string
	}{
		{name: "aliases apply", want: "; map the name to one the target has with a model alias", not: "the server has no such file"},
		{name: "no aliases", noAliases: true,
			want: `value "v1-5.safetensors" not in the target's list (2 choices) [value_not_in_list]; the server has no such file in its models/checkpoints folder (it lists "a.safetensors", "b.safetensors")`,
			not:  "model alias"},
		{name: "the profile maps the name", profile: maps,
			want: `[value_not_in_list]; the suite's profile "default" (the target is regen-executor) maps it to "a.safetensors": a run applies that alias; to validate as the run will, pass --alias v1-5.safetensors=a.safetensors`,
			not:  "the server has no such file"},
		{name: "the profile has aliases, none for the name", profile: other,
			want: `[value_not_in_list]; the suite's profile "default" (named by --profile) has no alias for it: add one to that profile's aliases (or pass --alias v1-5.safetensors=NAME) with a NAME the target lists`,
			not:  "the server has no such file"},
		{name: "the profile maps no names", noAliases: true, profile: none,
			want: `(it lists "a.safetensors", "b.safetensors"); no alias applies: the suite's profile "comfyui-sd15" (the suite's profile for comfyui targets) maps no model names`,
			not:  "pass --alias"},
		// A run's plan: the aliases were applied before validation.
		{name: "applied: the name is an alias's target", profile: mapsTo,
			want: `[value_not_in_list]; the suite's profile "default" (no --profile) maps "sd15.safetensors" to it: point that alias at a name the target lists`,
			not:  "--alias"},
		{name: "applied: no alias for the name", profile: appliedOther,
			want: `[value_not_in_list]; the suite's profile "default" (named by --profile) has no alias for v1-5.safetensors: add one to that profile's aliases with a name the target lists`,
			not:  "--alias"},
		{name: "applied: the profile maps no names", noAliases: true, profile: &AliasProfile{Name: "c", Reason: "r", Applied: true},
			want: `; no alias applies: the suite's profile "c" (r) maps no model names`,
			not:  "--alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateWith(p, info, ValidateOptions{NoAliases: tt.noAliases, Profile: tt.profile})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), tt.not) {
				t.Fatalf("ValidateWith = %v\nwant %q, not %q", err, tt.want, tt.not)
			}
		})
	}
}

func TestSomeChoices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		choices []any
		want    string
	}{
		{nil, "none"},
		{[]any{"a"}, `"a"`},
		{[]any{"a", "b", "c", "d", "e", "f", "g"}, `"a", "b", "c", "d", "e" and 2 more`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := someChoices(tt.choices); got != tt.want {
				t.Errorf("someChoices = %q, want %q", got, tt.want)
			}
		})
	}
}
