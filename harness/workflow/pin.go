package workflow

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// InputRef names one input of one node.
type InputRef struct {
	Node, ClassType, Input string
}

func (r InputRef) String() string { return fmt.Sprintf("%s.%s (%s)", r.Node, r.Input, r.ClassType) }

// seedNames are the inputs pinned even when /object_info does not flag
// them (and when no /object_info is given).
var seedNames = map[string]bool{"seed": true, "noise_seed": true}

// PinResult says what Pin changed.
type PinResult struct {
	// Pinned are the inputs set to the seed.
	Pinned []InputRef
	// Linked are seed inputs fed by a link (from a node such as a seed
	// generator); Pin cannot set them and the case may not be reproducible.
	Linked []InputRef
}

// Pin returns a copy of p with every seed input set to seed: INT inputs
// named seed or noise_seed (without a schema: numeric ones), and every INT
// input that info flags control_after_generate. info may be nil. It is an error for the seed to
// exceed an input's declared max.
func Pin(p Prompt, seed uint64, info ObjectInfo) (Prompt, PinResult, error) {
	out := p.Clone()
	var res PinResult
	value := json.Number(strconv.FormatUint(seed, 10))
	var errs []string
	for _, id := range out.IDs() {
		n := out[id]
		ni := info[n.ClassType]
		for _, name := range sortedKeys(n.Inputs) {
			var spec InputSpec
			var known bool
			if ni != nil {
				spec, known = ni.Spec(name)
			}
			flagged := known && spec.Type == "INT" && spec.ControlAfterGenerate()
			byName := seedNames[name] && ((known && spec.Type == "INT") || (!known && (isNumber(n.Inputs[name]) || isLinkValue(n.Inputs[name]))))
			if !flagged && !byName {
				continue
			}
			ref := InputRef{Node: id, ClassType: n.ClassType, Input: name}
			if _, _, isLink := AsLink(n.Inputs[name]); isLink {
				res.Linked = append(res.Linked, ref)
				continue
			}
			if max, ok := spec.Max(); known && ok && new(big.Int).SetUint64(seed).Cmp(max) > 0 {
				errs = append(errs, fmt.Sprintf("%s: seed %d is above its max %s", ref, seed, max))
				continue
			}
			n.Inputs[name] = value
			res.Pinned = append(res.Pinned, ref)
		}
	}
	if len(errs) > 0 {
		return nil, res, fmt.Errorf("pin seed: %s", strings.Join(errs, "; "))
	}
	return out, res, nil
}

func isLinkValue(v any) bool {
	_, _, ok := AsLink(v)
	return ok
}

func isNumber(v any) bool {
	switch v.(type) {
	case json.Number, float64, int, int64, uint64:
		return true
	}
	return false
}

// modelInputs are inputs that name model files.
var modelInputs = map[string]bool{
	"ckpt_name": true, "lora_name": true, "vae_name": true, "unet_name": true,
	"clip_name": true, "clip_name1": true, "clip_name2": true, "clip_name3": true,
	"control_net_name": true, "model_name": true, "upscale_model": true,
}

// Alias is one model-name replacement Alias made.
type Alias struct {
	InputRef
	From, To string
}

// ApplyAliases returns a copy of p with model names mapped through aliases
// (workflow's name → target's name). An input is a model name if it is one
// of the usual loader inputs (ckpt_name, lora_name, vae_name, unet_name,
// clip_name, control_net_name, …) or a COMBO in info; only exact value
// matches are replaced.
func ApplyAliases(p Prompt, aliases map[string]string, info ObjectInfo) (Prompt, []Alias) {
	out := p.Clone()
	var done []Alias
	if len(aliases) == 0 {
		return out, nil
	}
	for _, id := range out.IDs() {
		n := out[id]
		ni := info[n.ClassType]
		for _, name := range sortedKeys(n.Inputs) {
			s, ok := n.Inputs[name].(string)
			if !ok {
				continue
			}
			to, ok := aliases[s]
			if !ok {
				continue
			}
			isModel := modelInputs[name]
			if !isModel && ni != nil {
				spec, known := ni.Spec(name)
				isModel = known && spec.Type == "COMBO"
			}
			if !isModel {
				continue
			}
			n.Inputs[name] = to
			done = append(done, Alias{InputRef: InputRef{Node: id, ClassType: n.ClassType, Input: name}, From: s, To: to})
		}
	}
	return out, done
}

// Overrides are widget values a variant replaces in every node that has the
// input. The zero value of a field means "keep". The suite file decodes its
// overrides into this type (runner/suite.Overrides).
type Overrides struct {
	SamplerName string   `yaml:"sampler_name" json:"sampler_name,omitempty"`
	Scheduler   string   `yaml:"scheduler" json:"scheduler,omitempty"`
	Steps       *int     `yaml:"steps" json:"steps,omitempty"`
	CFG         *float64 `yaml:"cfg" json:"cfg,omitempty"`
	Denoise     *float64 `yaml:"denoise" json:"denoise,omitempty"`
	Width       *int     `yaml:"width" json:"width,omitempty"`
	Height      *int     `yaml:"height" json:"height,omitempty"`
	BatchSize   *int     `yaml:"batch_size" json:"batch_size,omitempty"`
}

// Merge returns o with the fields set in top replacing its own.
func (o Overrides) Merge(top Overrides) Overrides {
	if top.SamplerName != "" {
		o.SamplerName = top.SamplerName
	}
	if top.Scheduler != "" {
		o.Scheduler = top.Scheduler
	}
	if top.Steps != nil {
		o.Steps = top.Steps
	}
	if top.CFG != nil {
		o.CFG = top.CFG
	}
	if top.Denoise != nil {
		o.Denoise = top.Denoise
	}
	if top.Width != nil {
		o.Width = top.Width
	}
	if top.Height != nil {
		o.Height = top.Height
	}
	if top.BatchSize != nil {
		o.BatchSize = top.BatchSize
	}
	return o
}

// IsZero reports whether no override is set.
func (o Overrides) IsZero() bool { return o == Overrides{} }

// override is one set field: the input it sets, its value, and which nodes
// it applies to.
type override struct {
	input string
	value any
	// latentOnly limits width, height and batch_size to the nodes that
	// create the empty latent (EmptyLatentImage, EmptySD3LatentImage, …), so
	// that an image-size variant does not also resize ImageScale or
	// conditioning sizes.
	latentOnly bool
}

func (o Overrides) list() []override {
	var l []override
	if o.SamplerName != "" {
		l = append(l, override{input: "sampler_name", value: o.SamplerName})
	}
	if o.Scheduler != "" {
		l = append(l, override{input: "scheduler", value: o.Scheduler})
	}
	if o.Steps != nil {
		l = append(l, override{input: "steps", value: intNumber(*o.Steps)})
	}
	if o.CFG != nil {
		l = append(l, override{input: "cfg", value: floatNumber(*o.CFG)})
	}
	if o.Denoise != nil {
		l = append(l, override{input: "denoise", value: floatNumber(*o.Denoise)})
	}
	if o.Width != nil {
		l = append(l, override{input: "width", value: intNumber(*o.Width), latentOnly: true})
	}
	if o.Height != nil {
		l = append(l, override{input: "height", value: intNumber(*o.Height), latentOnly: true})
	}
	if o.BatchSize != nil {
		l = append(l, override{input: "batch_size", value: intNumber(*o.BatchSize), latentOnly: true})
	}
	return l
}

func intNumber(v int) json.Number { return json.Number(strconv.Itoa(v)) }

func floatNumber(v float64) json.Number {
	return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
}

// isLatentSource reports whether class creates the empty latent.
func isLatentSource(class string) bool {
	return strings.HasPrefix(class, "Empty") && strings.Contains(class, "Latent")
}

// Apply returns a copy of p with every set override applied to every node
// that has that input as a constant (linked inputs are left alone). It is
// an error, naming them all, for an override to match no node.
func (o Overrides) Apply(p Prompt) (Prompt, []InputRef, error) {
	out := p.Clone()
	var changed []InputRef
	var unmatched []string
	for _, ov := range o.list() {
		hit := false
		for _, id := range out.IDs() {
			n := out[id]
			v, ok := n.Inputs[ov.input]
			if !ok {
				continue
			}
			if _, _, isLink := AsLink(v); isLink || (ov.latentOnly && !isLatentSource(n.ClassType)) {
				continue
			}
			n.Inputs[ov.input] = ov.value
			changed = append(changed, InputRef{Node: id, ClassType: n.ClassType, Input: ov.input})
			hit = true
		}
		if !hit {
			where := "no node has it as a widget value"
			if ov.latentOnly {
				where = "no empty-latent node (EmptyLatentImage, …) has it"
			}
			unmatched = append(unmatched, fmt.Sprintf("%s (%s)", ov.input, where))
		}
	}
	if len(unmatched) > 0 {
		return nil, changed, fmt.Errorf("apply overrides: %s", strings.Join(unmatched, "; "))
	}
	return out, changed, nil
}

// CaseID is a case's stable id: <workflow>[<variant>]/seed=<n>, without the
// brackets when variant is empty.
func CaseID(workflow, variant string, seed uint64) string {
	if variant == "" {
		return fmt.Sprintf("%s/seed=%d", workflow, seed)
	}
	return fmt.Sprintf("%s[%s]/seed=%d", workflow, variant, seed)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
