package workflow

import (
	"strings"
	"testing"
)

// subgraphDefs are two definitions in the object-links form: S wraps a
// Sampler (inputs model and a promoted steps widget, output LATENT) and
// S2 wraps an instance of S.
const subgraphDefs = `"definitions": {"subgraphs": [
  {"id": "11111111-2222-3333-4444-555555555555", "name": "S",
   "inputs": [{"name": "model", "type": "MODEL"}, {"name": "steps", "type": "INT"}],
   "outputs": [{"name": "LATENT", "type": "LATENT"}],
   "nodes": [{"id": 3, "type": "Sampler", "inputs": [
       {"name": "model", "type": "MODEL", "link": 10},
       {"name": "steps", "type": "INT", "link": 11, "widget": {"name": "steps"}}],
     "outputs": [{"name": "LATENT", "type": "LATENT"}],
     "widgets_values": [7, "fixed", 20, "euler", 1]}],
   "links": [{"id": 10, "origin_id": -10, "origin_slot": 0, "target_id": 3, "target_slot": 0, "type": "MODEL"},
     {"id": 11, "origin_id": -10, "origin_slot": 1, "target_id": 3, "target_slot": 1, "type": "INT"},
     {"id": 12, "origin_id": 3, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "LATENT"}]},
  {"id": "66666666-7777-8888-9999-000000000000", "name": "S2",
   "inputs": [{"name": "model", "type": "MODEL"}],
   "outputs": [{"name": "LATENT", "type": "LATENT"}],
   "nodes": [{"id": 4, "type": "11111111-2222-3333-4444-555555555555", "inputs": [
       {"name": "model", "type": "MODEL", "link": 30},
       {"name": "steps", "type": "INT", "link": null, "widget": {"name": "steps"}}],
     "outputs": [{"name": "LATENT", "type": "LATENT"}]}],
   "links": [{"id": 30, "origin_id": -10, "origin_slot": 0, "target_id": 4, "target_slot": 0, "type": "MODEL"},
     {"id": 31, "origin_id": 4, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "LATENT"}]}]}`

func TestConvertExpandsSubgraphs(t *testing.T) {
	t.Parallel()
	loader := `{"id": 1, "type": "Loader", "widgets_values": ["a.safetensors"], "outputs": [{"type": "MODEL"}]}`
	save := `{"id": 6, "type": "Save", "inputs": [{"name": "latent", "type": "LATENT", "link": 2}], "widgets_values": ["x"]}`
	instance := func(id, typ string, mode int, widgets string) string {
		return `{"id": ` + id + `, "type": "` + typ + `", "mode": ` + string(rune('0'+mode)) + `, "inputs": [
		  {"name": "model", "type": "MODEL", "link": 1}, {"name": "steps", "type": "INT", "link": null, "widget": {"name": "steps"}}],
		  "outputs": [{"name": "LATENT", "type": "LATENT"}], "widgets_values": ` + widgets + `}`
	}
	links := `"links": [[1, 1, 0, 5, 0, "MODEL"], [2, 5, 0, 6, 0, "LATENT"]]`
	const s = "11111111-2222-3333-4444-555555555555"
	tests := []struct {
		name, graph, want string
		info              func(ObjectInfo)
	}{
		{name: "promoted widget value on the instance wins",
			graph: `{"nodes": [` + loader + `, ` + instance("5", s, 0, "[12]") + `, ` + save + `], ` + links + `, ` + subgraphDefs + `}`,
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "5:3": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 7, "steps": 12, "sampler_name": "euler", "denoise": 1}, "_meta": {"title": "Sampler"}},
			  "6": {"class_type": "Save", "inputs": {"latent": ["5:3", 0], "prefix": "x"}, "_meta": {"title": "Save"}}}`},
		{name: "without a host value the inner widget stands",
			graph: `{"nodes": [` + loader + `, ` + instance("5", s, 0, "[]") + `, ` + save + `], ` + links + `, ` + subgraphDefs + `}`,
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "5:3": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 7, "steps": 20, "sampler_name": "euler", "denoise": 1}, "_meta": {"title": "Sampler"}},
			  "6": {"class_type": "Save", "inputs": {"latent": ["5:3", 0], "prefix": "x"}, "_meta": {"title": "Save"}}}`},
		{name: "nested subgraphs get path ids",
			graph: `{"nodes": [` + loader + `, {"id": 5, "type": "66666666-7777-8888-9999-000000000000", "inputs": [{"name": "model", "type": "MODEL", "link": 1}],
			  "outputs": [{"name": "LATENT", "type": "LATENT"}]}, ` + save + `], ` + links + `, ` + subgraphDefs + `}`,
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "5:4:3": {"class_type": "Sampler", "inputs": {"model": ["1", 0], "seed": 7, "steps": 20, "sampler_name": "euler", "denoise": 1}, "_meta": {"title": "Sampler"}},
			  "6": {"class_type": "Save", "inputs": {"latent": ["5:4:3", 0], "prefix": "x"}, "_meta": {"title": "Save"}}}`},
		{name: "muted instance: nothing inside runs",
			graph: `{"nodes": [` + loader + `, ` + instance("5", s, 2, "[12]") + `, ` + save + `], ` + links + `, ` + subgraphDefs + `}`,
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "6": {"class_type": "Save", "inputs": {"prefix": "x"}, "_meta": {"title": "Save"}}}`},
		{name: "a class the target knows is not expanded",
			graph: `{"nodes": [` + loader + `, ` + instance("5", s, 0, "[12]") + `, ` + save + `], ` + links + `, ` + subgraphDefs + `}`,
			info: func(info ObjectInfo) {
				info[s] = &NodeInfo{DisplayName: "Blueprint", Output: []any{"LATENT"}}
			},
			want: `{"1": {"class_type": "Loader", "inputs": {"ckpt_name": "a.safetensors"}, "_meta": {"title": "Load"}},
			  "5": {"class_type": "11111111-2222-3333-4444-555555555555", "inputs": {"model": ["1", 0]}, "_meta": {"title": "Blueprint"}},
			  "6": {"class_type": "Save", "inputs": {"latent": ["5", 0], "prefix": "x"}, "_meta": {"title": "Save"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info := parseInfo(t)
			if tt.info != nil {
				tt.info(info)
			}
			checkConvert(t, info, tt.graph, tt.want)
		})
	}
}

func TestConvertSubgraphCycle(t *testing.T) {
	t.Parallel()
	g := `{"nodes": [{"id": 1, "type": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}], "links": [],
	  "definitions": {"subgraphs": [{"id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "name": "Loop",
	    "nodes": [{"id": 2, "type": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}], "links": []}]}}`
	w, err := Parse("t", []byte(g))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Prompt(parseInfo(t))
	if err == nil || !strings.Contains(err.Error(), `subgraph "Loop" (aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee) contains itself (node 1:2)`) {
		t.Fatalf("err = %v, want the self-including subgraph named", err)
	}
}
