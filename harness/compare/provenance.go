package compare

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Provenance is what a ComfyUI API prompt says about how an image was made:
// one entry per sampler node, in node-id order (numeric ids numerically).
type Provenance struct {
	Samplers []SamplerPlan `json:"samplers"`
	// Error is set, and Samplers empty, when the image carries a "prompt"
	// chunk that is not a readable API prompt.
	Error string `json:"error,omitempty"`
}

// SamplerPlan is the configuration of one sampler node. Values are
// canonical strings (numbers in shortest form, so 8 and 8.0 are equal); an
// empty value means the prompt does not set it (KSamplerAdvanced has no
// denoise, for example).
type SamplerPlan struct {
	Node      string `json:"node"`
	Class     string `json:"class"`
	Seed      string `json:"seed,omitempty"`
	Sampler   string `json:"sampler,omitempty"`
	Scheduler string `json:"scheduler,omitempty"`
	Steps     string `json:"steps,omitempty"`
	CFG       string `json:"cfg,omitempty"`
	Denoise   string `json:"denoise,omitempty"`
	// Range is "start..end" of KSamplerAdvanced's start_at_step/end_at_step.
	Range string `json:"range,omitempty"`
	// Model is the checkpoint (ckpt_name or unet_name) feeding the sampler's
	// model input, followed by "+lora@strength" for each LoRA on the way.
	Model string `json:"model,omitempty"`
}

// field is one compared SamplerPlan field.
type field struct {
	name string
	get  func(SamplerPlan) string
}

var planFields = []field{
	{"seed", func(p SamplerPlan) string { return p.Seed }},
	{"sampler", func(p SamplerPlan) string { return p.Sampler }},
	{"scheduler", func(p SamplerPlan) string { return p.Scheduler }},
	{"steps", func(p SamplerPlan) string { return p.Steps }},
	{"cfg", func(p SamplerPlan) string { return p.CFG }},
	{"denoise", func(p SamplerPlan) string { return p.Denoise }},
	{"range", func(p SamplerPlan) string { return p.Range }},
	{"model", func(p SamplerPlan) string { return p.Model }},
}

// samplerClasses are the node types whose configuration is provenance.
var samplerClasses = map[string]bool{
	"KSampler": true, "KSamplerAdvanced": true,
	"SamplerCustom": true, "SamplerCustomAdvanced": true,
}

type apiNode struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

type prompt map[string]apiNode

// ProvenanceFromPrompt extracts the sampler configuration from a ComfyUI
// API-format prompt (the JSON of POST /prompt's "prompt" field, or the PNG
// "prompt" chunk). A prompt without sampler nodes gives an empty Provenance.
func ProvenanceFromPrompt(data []byte) (*Provenance, error) {
	var p prompt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse prompt: %w", err)
	}
	ids := make([]string, 0, len(p))
	for id, n := range p {
		if samplerClasses[n.ClassType] {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, compareIDs)
	out := &Provenance{Samplers: []SamplerPlan{}}
	for _, id := range ids {
		out.Samplers = append(out.Samplers, p.sampler(id))
	}
	return out, nil
}

// provenanceFromPNG reads the "prompt" chunk of a PNG; nil when absent.
func provenanceFromPNG(data []byte) (*Provenance, error) {
	if len(data) == 0 {
		return nil, nil
	}
	text, err := pngText(data)
	if err != nil {
		return nil, err
	}
	js, ok := text["prompt"]
	if !ok {
		return nil, nil
	}
	p, err := ProvenanceFromPrompt([]byte(js))
	if err != nil {
		// Unreadable metadata is a finding about the image, not a reason
		// to refuse judging its pixels.
		return &Provenance{Samplers: []SamplerPlan{}, Error: err.Error()}, nil
	}
	return p, nil
}

// compareIDs orders node ids numerically when both are numbers, else as text.
func compareIDs(a, b string) int {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func (p prompt) sampler(id string) SamplerPlan {
	n := p[id]
	sp := SamplerPlan{Node: id, Class: n.ClassType}
	// The custom-sampler family spreads its settings over linked nodes:
	// noise (RandomNoise), sampler (KSamplerSelect), sigmas
	// (BasicScheduler), guider (BasicGuider/CFGGuider).
	nodes := []string{id}
	for _, in := range []string{"noise", "sampler", "sigmas", "guider"} {
		if src, ok := linkOf(n.Inputs[in]); ok {
			nodes = append(nodes, src)
		}
	}
	lookup := func(names ...string) string {
		for _, nid := range nodes {
			for _, name := range names {
				if raw, ok := p[nid].Inputs[name]; ok {
					return p.value(raw)
				}
			}
		}
		return ""
	}
	sp.Seed = lookup("seed", "noise_seed")
	sp.Sampler = lookup("sampler_name")
	sp.Scheduler = lookup("scheduler")
	sp.Steps = lookup("steps")
	sp.CFG = lookup("cfg")
	sp.Denoise = lookup("denoise")
	if start, end := lookup("start_at_step"), lookup("end_at_step"); start != "" || end != "" {
		sp.Range = start + ".." + end
	}
	for _, nid := range nodes {
		if src, ok := linkOf(p[nid].Inputs["model"]); ok {
			sp.Model = p.model(src, 0)
			break
		}
	}
	return sp
}

// model follows a model link back to its loader, noting LoRAs on the way.
func (p prompt) model(id string, depth int) string {
	n, ok := p[id]
	if !ok || depth > 64 {
		return "?"
	}
	for _, key := range []string{"ckpt_name", "unet_name"} {
		if raw, ok := n.Inputs[key]; ok {
			return p.value(raw)
		}
	}
	up := "?"
	if src, ok := linkOf(n.Inputs["model"]); ok {
		up = p.model(src, depth+1)
	}
	if raw, ok := n.Inputs["lora_name"]; ok {
		up += "+" + p.value(raw)
		if s, ok := n.Inputs["strength_model"]; ok {
			up += "@" + p.value(s)
		}
	}
	return up
}

// value renders a literal input canonically. A link to a node with exactly
// one literal input (a primitive or seed node) resolves to that literal;
// any other link renders as "<class_type>".
func (p prompt) value(raw json.RawMessage) string {
	if src, ok := linkOf(raw); ok {
		n := p[src]
		var lit []json.RawMessage
		for _, v := range n.Inputs {
			if _, isLink := linkOf(v); !isLink {
				lit = append(lit, v)
			}
		}
		if len(lit) == 1 && len(n.Inputs) == 1 {
			return canonical(lit[0])
		}
		return "<" + n.ClassType + ">"
	}
	return canonical(raw)
}

// linkOf reports whether raw is a link [node_id, output_index].
func linkOf(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return "", false
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil || len(arr) != 2 {
		return "", false
	}
	var id string
	if err := json.Unmarshal(arr[0], &id); err == nil {
		return id, true
	}
	var num json.Number
	if err := json.Unmarshal(arr[0], &num); err == nil {
		return num.String(), true
	}
	return "", false
}

// canonical renders a JSON scalar: strings unquoted, integers exactly,
// other numbers in shortest float form (8.0 → "8"), anything else compact.
func canonical(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		txt := string(raw)
		if _, err := strconv.ParseInt(txt, 10, 64); err == nil {
			return txt
		}
		if _, err := strconv.ParseUint(txt, 10, 64); err == nil {
			return txt
		}
		if f, err := strconv.ParseFloat(txt, 64); err == nil {
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return strconv.FormatInt(int64(f), 10)
			}
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err == nil {
		return buf.String()
	}
	return string(raw)
}

// diffProvenance returns the first difference between want and got as a
// sentence naming the field, or "" when they agree.
func diffProvenance(wantName string, want, got *Provenance) (fieldName, msg string) {
	if len(want.Samplers) != len(got.Samplers) {
		return "samplers", fmt.Sprintf("%s has %d sampler nodes, the output %d",
			wantName, len(want.Samplers), len(got.Samplers))
	}
	for i := range want.Samplers {
		w, g := want.Samplers[i], got.Samplers[i]
		for _, f := range planFields {
			if a, b := f.get(w), f.get(g); a != b {
				return f.name, fmt.Sprintf("%s %s %s differs: %s %q, output %q",
					g.Class, g.Node, f.name, wantName, a, b)
			}
		}
	}
	return "", ""
}
