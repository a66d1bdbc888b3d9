package workflow

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// testInfo is a small /object_info with the cases the converter must
// handle: a seed with control_after_generate, a forceInput STRING, an
// optional widget, an upload combo and a link-only input.
const testInfo = `{
 "Loader": {"input": {"required": {"ckpt_name": [["a.safetensors", "b.safetensors"]]}},
   "output": ["MODEL", "CLIP"], "display_name": "Load"},
 "Sampler": {"input": {"required": {
     "model": ["MODEL"],
     "seed": ["INT", {"default": 0, "min": 0, "max": 18446744073709551615, "control_after_generate": true}],
     "steps": ["INT", {"default": 20}],
     "sampler_name": [["euler", "randomize_like", "heun"]],
     "text": ["STRING", {"forceInput": true}]},
   "optional": {"denoise": ["FLOAT", {"default": 1.0}]}},
   "input_order": {"required": ["model", "seed", "steps", "sampler_name", "text"], "optional": ["denoise"]},
   "output": ["LATENT"], "display_name": "Sampler"},
 "Legacy": {"input": {"required": {"noise_seed": ["INT", {"default": 0}], "cfg": ["FLOAT", {"default": 8}]}},
   "output": ["INT"]},
 "Text": {"input": {"required": {"text": ["STRING", {"multiline": true}]}}, "output": ["STRING"]},
 "Load": {"input": {"required": {"image": [["x.png"], {"image_upload": true}], "channel": [["alpha", "red"]]}},
   "output": ["IMAGE", "MASK"]},
 "Pick": {"input": {"required": {"choice": [["a", "b"], {"control_after_generate": true}], "n": ["INT", {}]}},
   "input_order": {"required": ["choice", "n"]}, "output": ["STRING"]},
 "List": {"input": {"required": {"values": ["COMBO", {"options": ["p", "q"], "multiselect": true}]}}, "output": ["STRING"]},
 "Save": {"input": {"required": {"latent": ["LATENT"], "prefix": ["STRING", {"default": "ComfyUI"}]}},
   "output": [], "output_node": true}
}`

func parseInfo(tb testing.TB) ObjectInfo {
	tb.Helper()
	info, err := ParseObjectInfo([]byte(testInfo))
	if err != nil {
		tb.Fatalf("parse object info: %v", err)
	}
	return info
}

// checkConvert converts the UI graph with info and compares the prompt with
// want (JSON, compared as values).
func checkConvert(t *testing.T, info ObjectInfo, graph, want string) {
	t.Helper()
	w, err := Parse("t", []byte(graph))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	got, err := w.Prompt(info)
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	if g, w := jsonValue(t, got), jsonValue(t, []byte(want)); !reflect.DeepEqual(g, w) {
		b, _ := got.Indent()
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
}

func TestConvertGraphs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		graph string
		want  string // the expected prompt, as JSON
	}{
		{
			name: "companion control value skipped and forceInput owns no slot",
			graph: `{"nodes": [
			  {"id": 1, "type": "Loader", "widgets_values": ["a.safetensors"], "outputs": [{"type": "MODEL"}]},
			  {"id": 2, "type": "Sampler", "inputs": [{"name": "model", "type": "MODEL", "link": 1}],
			   "widgets_values": [42, "fixed", 5, "heun", 0.5], "title": "My sampler"}],
			 "links": [[1, 1, 0, 2, 0, "MODEL"]]}`,
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "2": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 42, "steps": 5, "sampler_name": "heun", "denoise": 0.5},
			   "_meta": {"title": "My sampler"}}}`,
		},
		{
			name: "legacy seed name companion, old file without it, defaults for short lists",
			graph: `{"nodes": [
			  {"id": 3, "type": "Legacy", "widgets_values": [7, "randomize", 3.5]},
			  {"id": 4, "type": "Legacy", "widgets_values": [8, 2.5]},
			  {"id": 5, "type": "Sampler", "widgets_values": [1]}],
			 "links": []}`,
			want: `{"3": {"class_type": "Legacy", "inputs": {"noise_seed": 7, "cfg": 3.5}, "_meta": {"title": "Legacy"}},
			  "4": {"class_type": "Legacy", "inputs": {"noise_seed": 8, "cfg": 2.5}, "_meta": {"title": "Legacy"}},
			  "5": {"class_type": "Sampler", "inputs": {"seed": 1, "steps": 20, "sampler_name": "euler"}, "_meta": {"title": "Sampler"}}}`,
		},
		{
			name: "upload button value, list values wrapped, object widgets_values, flagged COMBO companion",
			graph: `{"nodes": [
			  {"id": 1, "type": "Load", "widgets_values": ["x.png", "image", "red"]},
			  {"id": 2, "type": "List", "widgets_values": [["p", "q"]]},
			  {"id": 3, "type": "Text", "widgets_values": {"text": "hello"}},
			  {"id": 4, "type": "Pick", "widgets_values": ["b", "randomize", 3]}],
			 "links": []}`,
			want: `{"1": {"class_type": "Load", "inputs": {"image": "x.png", "channel": "red"}, "_meta": {"title": "Load"}},
			  "2": {"class_type": "List", "inputs": {"values": {"__value__": ["p", "q"]}}, "_meta": {"title": "List"}},
			  "3": {"class_type": "Text", "inputs": {"text": "hello"}, "_meta": {"title": "Text"}},
			  "4": {"class_type": "Pick", "inputs": {"choice": "b", "n": 3}, "_meta": {"title": "Pick"}}}`,
		},
		{
			name: "reroute, primitive node and converted widget: the link wins",
			graph: `{"nodes": [
			  {"id": 1, "type": "Loader", "widgets_values": ["a.safetensors"]},
			  {"id": 9, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 1}], "outputs": [{"type": "MODEL"}]},
			  {"id": 8, "type": "PrimitiveNode", "outputs": [{"type": "INT"}], "widgets_values": [99, "fixed"]},
			  {"id": 7, "type": "Text", "widgets_values": ["prompt"]},
			  {"id": 2, "type": "Sampler", "inputs": [
			     {"name": "model", "type": "MODEL", "link": 2},
			     {"name": "seed", "type": "INT", "link": 3, "widget": {"name": "seed"}},
			     {"name": "text", "type": "STRING", "link": 4}],
			   "widgets_values": [1, "fixed", 5, "euler", 1]},
			  {"id": 6, "type": "Note", "widgets_values": ["just a note"]}],
			 "links": [{"id": 1, "origin_id": 1, "origin_slot": 0, "target_id": 9, "target_slot": 0, "type": "MODEL"},
			   [2, 9, 0, 2, 0, "MODEL"], [3, 8, 0, 2, 1, "INT"], [4, 7, 0, 2, 4, "STRING"]]}`,
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "7": {"class_type": "Text", "inputs": {"text": "prompt"}, "_meta": {"title": "Text"}},
			  "2": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 99, "steps": 5, "sampler_name": "euler", "denoise": 1, "text": ["7", 0]},
			   "_meta": {"title": "Sampler"}}}`,
		},
		{
			name: "bypassed node passes its matching input through; muted node's consumers lose the input",
			graph: `{"nodes": [
			  {"id": 1, "type": "Loader", "widgets_values": ["a.safetensors"]},
			  {"id": 2, "type": "Sampler", "mode": 4, "inputs": [{"name": "model", "type": "MODEL", "link": 1}],
			    "outputs": [{"name": "LATENT", "type": "LATENT"}], "widgets_values": [1, "fixed", 5, "euler", 1]},
			  {"id": 3, "type": "Sampler", "mode": 2, "widgets_values": [1, "fixed", 5, "euler", 1]},
			  {"id": 4, "type": "Save", "inputs": [{"name": "latent", "type": "LATENT", "link": 2}], "widgets_values": ["a"]},
			  {"id": 5, "type": "Save", "inputs": [{"name": "latent", "type": "LATENT", "link": 3}], "widgets_values": ["b"]},
			  {"id": 6, "type": "Sampler", "inputs": [{"name": "model", "type": "MODEL", "link": 4}], "widgets_values": [1, "fixed", 5, "euler", 1]},
			  {"id": 7, "type": "Save", "mode": 4, "inputs": [{"name": "latent", "type": "LATENT", "link": 5}],
			    "outputs": [{"type": "MODEL"}], "widgets_values": ["c"]}],
			 "links": [[1, 1, 0, 2, 0, "MODEL"], [2, 2, 0, 4, 0, "LATENT"], [3, 3, 0, 5, 0, "LATENT"],
			   [4, 7, 0, 6, 0, "MODEL"], [5, 1, 0, 7, 0, "LATENT"]]}`,
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "4": {"class_type": "Save", "inputs": {"prefix": "a"}, "_meta": {"title": "Save"}},
			  "5": {"class_type": "Save", "inputs": {"prefix": "b"}, "_meta": {"title": "Save"}},
			  "6": {"class_type": "Sampler", "inputs": {"seed": 1, "steps": 5, "sampler_name": "euler", "denoise": 1}, "_meta": {"title": "Sampler"}}}`,
		},
	}
	info := parseInfo(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkConvert(t, info, tt.graph, tt.want)
		})
	}
}

func TestConvertBypassPassThrough(t *testing.T) {
	t.Parallel()
	// A bypassed "Legacy" node (output INT) between a Legacy source and a
	// consumer: the consumer links to the source's output.
	g := `{"nodes": [
	  {"id": 1, "type": "Legacy", "widgets_values": [1, 2]},
	  {"id": 2, "type": "Legacy", "mode": 4, "inputs": [{"name": "noise_seed", "type": "INT", "link": 1, "widget": {"name": "noise_seed"}}],
	    "outputs": [{"type": "INT"}], "widgets_values": [3, 4]},
	  {"id": 3, "type": "Legacy", "inputs": [{"name": "noise_seed", "type": "INT", "link": 2, "widget": {"name": "noise_seed"}}], "widgets_values": [5, 6]}],
	 "links": [[1, 1, 0, 2, 0, "INT"], [2, 2, 0, 3, 0, "INT"]]}`
	w, err := Parse("t", []byte(g))
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.Prompt(parseInfo(t))
	if err != nil {
		t.Fatal(err)
	}
	if id, slot, ok := AsLink(p["3"].Inputs["noise_seed"]); !ok || id != "1" || slot != 0 {
		t.Errorf("noise_seed = %v, want [1 0] through the bypassed node", p["3"].Inputs["noise_seed"])
	}
	if p["2"] != nil {
		t.Error("the bypassed node is in the prompt")
	}
}

func TestConvertRejectsUnknownTypes(t *testing.T) {
	t.Parallel()
	g := `{"nodes": [{"id": 3, "type": "Mystery"}, {"id": 1, "type": "Mystery"}, {"id": 2, "type": "Other"}, {"id": 7, "type": "workflow>My group"},
	  {"id": 4, "type": "Gone", "mode": 2}, {"id": 5, "type": "Text", "widgets_values": ["x"]}], "links": []}`
	w, err := Parse("t", []byte(g))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Prompt(parseInfo(t))
	var ce *ConversionError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConversionError", err)
	}
	want := []UnknownType{{Type: "Mystery", Nodes: []string{"1", "3"}}, {Type: "Other", Nodes: []string{"2"}}, {Type: "workflow>My group", Nodes: []string{"7"}}}
	if !reflect.DeepEqual(ce.UnknownTypes, want) {
		t.Errorf("unknown = %+v, want %+v (muted nodes do not count)", ce.UnknownTypes, want)
	}
	if !strings.Contains(err.Error(), "Mystery (node 1, 3)") || !strings.Contains(err.Error(), "a legacy group node") {
		t.Errorf("message: %v", err)
	}
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       Format
		wantErr    string
	}{
		{name: "api", data: `{"1": {"class_type": "Text", "inputs": {"text": "x"}}}`, want: FormatAPI},
		{name: "api wrapped in a POST body", data: `{"prompt": {"1": {"class_type": "Text", "inputs": {}}}, "client_id": "c"}`, want: FormatAPI},
		{name: "ui", data: `{"nodes": [], "links": [], "version": 0.4}`, want: FormatUI},
		{name: "neither", data: `{"foo": 1}`, wantErr: "unrecognised workflow format"},
		{name: "not an object", data: `[1, 2]`, wantErr: "want a JSON object"},
		{name: "bad link", data: `{"nodes": [], "links": [[1, 2]]}`, wantErr: "want 6 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := Parse("x", []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Format != tt.want {
				t.Errorf("format = %s, want %s", w.Format, tt.want)
			}
		})
	}
}

func TestLoadAPIKeepsBigSeeds(t *testing.T) {
	t.Parallel()
	w, err := Parse("x", []byte(`{"3": {"class_type": "KSampler", "inputs": {"seed": 18446744073709551615}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(w.API)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"seed":18446744073709551615`) {
		t.Errorf("seed lost precision: %s", b)
	}
}
