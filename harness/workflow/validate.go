package workflow

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Problem is one reason a prompt would be rejected.
type Problem struct {
	Node, ClassType, Input string
	Reason                 string
}

func (p Problem) String() string {
	switch {
	case p.Node == "":
		return p.Reason
	case p.Input == "":
		return fmt.Sprintf("node %s (%s): %s", p.Node, p.ClassType, p.Reason)
	default:
		return fmt.Sprintf("node %s (%s) input %s: %s", p.Node, p.ClassType, p.Input, p.Reason)
	}
}

// ValidationError lists every problem Validate found.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "\n  - " + p.String()
	}
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("invalid prompt (%d %s):%s", len(e.Problems), noun, strings.Join(lines, ""))
}

// Validate checks p against info before submission, the way a server would
// reject it: unknown node types, missing required inputs, links to missing
// nodes or output slots, dependency cycles, and no output node at all. It
// returns a *ValidationError listing every problem, or nil. An upload combo
// (LoadImage's image) is left to the node: its file may be uploaded between
// validation and submission, as a run uploads the suite's inputs; see
// ValidateWithFiles.
func Validate(p Prompt, info ObjectInfo) error {
	return ValidateWith(p, info, ValidateOptions{})
}

// ValidateWithFiles is Validate that also checks upload combos the way
// ComfyUI's LoadImage.VALIDATE_INPUTS does (custom_validation_failed,
// "Invalid image file"): the file must be in the option list, which the
// server fills from its input folder. A value in a subfolder or with a
// "[input]"-style annotation is not listed there and is accepted unchecked.
func ValidateWithFiles(p Prompt, info ObjectInfo) error {
	return ValidateWith(p, info, ValidateOptions{Files: true})
}

// ValidateOptions tune ValidateWith.
type ValidateOptions struct {
	// Files checks upload combos (ValidateWithFiles).
	Files bool
	// NoAliases says that no model alias applies (a suite profile for a
	// real ComfyUI maps none): a model file missing from the target's list
	// is then blamed on the server, which lacks it, with the folder and
	// the files it listed, instead of suggesting an alias.
	NoAliases bool
	// Profile, when set, is the suite profile whose model aliases apply to
	// the target: a missing model's hint names it and says whether it maps
	// the name, and to what.
	Profile *AliasProfile
}

// AliasProfile is the suite profile a validation's model hints speak of.
type AliasProfile struct {
	// Name is the profile's name ("default" for the suite's top level).
	Name string
	// Reason says why it applies to the target.
	Reason string
	// Aliases map the workflows' model names to the target's.
	Aliases map[string]string
	// Applied says the prompt went through these aliases already (a run's
	// plan applies them before it validates): a missing name is then an
	// alias's target that the target lacks, or a name no alias maps, and
	// the hint does not suggest --alias (regen run has none).
	Applied bool
}

// hint is the model-alias part of a missing model's reason (after the
// value_not_in_list text).
func (p *AliasProfile) hint(value any) string {
	which := fmt.Sprintf("the suite's profile %q (%s)", p.Name, p.Reason)
	name, _ := value.(string)
	if p.Applied {
		return p.appliedHint(which, name, value)
	}
	if to, ok := p.Aliases[name]; ok && name != "" {
		return fmt.Sprintf("; %s maps it to %q: a run applies that alias; to validate as the run will, pass --alias %s=%s", which, to, name, to)
	}
	if len(p.Aliases) == 0 {
		return fmt.Sprintf("; no alias applies: %s maps no model names", which)
	}
	if name == "" {
		name = jsonText(value)
	}
	return fmt.Sprintf("; %s has no alias for it: add one to that profile's aliases (or pass --alias %s=NAME) with a NAME the target lists", which, name)
}

// appliedHint is hint for a prompt the profile's aliases were applied to.
func (p *AliasProfile) appliedHint(which, name string, value any) string {
	if len(p.Aliases) == 0 {
		return fmt.Sprintf("; no alias applies: %s maps no model names", which)
	}
	var from []string
	for k, to := range p.Aliases {
		if to == name && k != name && name != "" {
			from = append(from, fmt.Sprintf("%q", k))
		}
	}
	slices.Sort(from) // map order: sorted for a stable message
	if len(from) > 0 {
		return fmt.Sprintf("; %s maps %s to it: point that alias at a name the target lists", which, strings.Join(from, " and "))
	}
	if name == "" {
		name = jsonText(value)
	}
	return fmt.Sprintf("; %s has no alias for %s: add one to that profile's aliases with a name the target lists", which, name)
}

// ValidateWith is Validate with options.
func ValidateWith(p Prompt, info ObjectInfo, o ValidateOptions) error {
	files := o.Files
	var probs []Problem
	outputs, unknown := 0, 0
	for _, id := range p.IDs() {
		n := p[id]
		ni := info[n.ClassType]
		if ni == nil {
			unknown++
			probs = append(probs, Problem{Node: id, ClassType: n.ClassType,
				Reason: fmt.Sprintf("node type %q is not in the target's /object_info", n.ClassType)})
		} else {
			if ni.OutputNode {
				outputs++
			}
			for _, in := range ni.OrderedInputs() {
				v, ok := n.Inputs[in.Name]
				if !ok {
					if in.Required {
						probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: in.Name,
							Reason: "required input missing"})
					}
					continue
				}
				if _, _, isLink := AsLink(v); !isLink {
					reason := checkValue(in, v, o)
					if reason == "" && files {
						reason = checkUpload(in.Spec, v)
					}
					if reason != "" {
						probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: in.Name, Reason: reason})
					}
				}
			}
		}
		for _, name := range sortedKeys(n.Inputs) {
			src, slot, ok := AsLink(n.Inputs[name])
			if !ok {
				continue
			}
			sn := p[src]
			if sn == nil {
				probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: name,
					Reason: fmt.Sprintf("linked to node %s, which is not in the prompt", src)})
				continue
			}
			si := info[sn.ClassType]
			if si == nil {
				continue
			}
			if slot < 0 || slot >= len(si.Output) {
				probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: name,
					Reason: fmt.Sprintf("linked to output %d of node %s (%s), which has %d outputs", slot, src, sn.ClassType, len(si.Output))})
				continue
			}
			if ni == nil {
				continue
			}
			if spec, ok := ni.Spec(name); ok {
				if out := outputType(si.Output[slot]); !typesMatch(out, spec.Type) {
					probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: name,
						Reason: fmt.Sprintf("linked to output %d of node %s (%s) of type %s, want %s", slot, src, sn.ClassType, out, spec.Type)})
				}
			}
		}
	}
	for _, id := range cycleNodes(p) {
		probs = append(probs, Problem{Node: id, ClassType: p[id].ClassType,
			Reason: "the node is part of a dependency cycle [dependency_cycle]"})
	}
	if outputs == 0 && unknown == 0 && len(p) > 0 {
		probs = append(probs, Problem{Reason: "no output node (such as SaveImage): the server would reject the prompt"})
	}
	if len(p) == 0 {
		probs = append(probs, Problem{Reason: "the prompt has no nodes"})
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// cycleNodes returns, in p.IDs order, every node that lies on a cycle of
// links (ComfyUI 0.33.0 answers dependency_cycle for each node of a cycle).
// Links to nodes outside the prompt are ignored; Validate reports them.
func cycleNodes(p Prompt) []string {
	ids := p.IDs()
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	// Tarjan's strongly connected components, iterating inputs in sorted order.
	var (
		next    int
		order   = make([]int, len(ids)) // 0: unvisited; else visit number + 1
		low     = make([]int, len(ids))
		onStack = make([]bool, len(ids))
		stack   []int
		inCycle = make([]bool, len(ids))
	)
	deps := func(v int) []int {
		n := p[ids[v]]
		var out []int
		for _, name := range sortedKeys(n.Inputs) {
			if src, _, ok := AsLink(n.Inputs[name]); ok {
				if w, ok := index[src]; ok {
					out = append(out, w)
				}
			}
		}
		return out
	}
	var visit func(v int)
	visit = func(v int) {
		next++
		order[v], low[v] = next, next
		stack = append(stack, v)
		onStack[v] = true
		self := false
		for _, w := range deps(v) {
			switch {
			case w == v:
				self = true
			case order[w] == 0:
				visit(w)
				low[v] = min(low[v], low[w])
			case onStack[w]:
				low[v] = min(low[v], order[w])
			}
		}
		if low[v] != order[v] {
			return
		}
		var comp []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) > 1 || self {
			for _, w := range comp {
				inCycle[w] = true
			}
		}
	}
	for v := range ids {
		if order[v] == 0 {
			visit(v)
		}
	}
	var out []string
	for v, id := range ids {
		if inCycle[v] {
			out = append(out, id)
		}
	}
	return out
}

// checkUpload checks an upload combo's file name against the option list
// (the server's input folder), as ComfyUI's LoadImage.VALIDATE_INPUTS does.
func checkUpload(spec InputSpec, v any) string {
	if spec.Type != "COMBO" || !spec.HasUpload() {
		return ""
	}
	name, ok := v.(string)
	if !ok || strings.ContainsAny(name, "/\\") || strings.HasSuffix(name, "]") {
		return ""
	}
	if slices.ContainsFunc(spec.Choices, func(c any) bool { return equalJSON(c, name) }) {
		return ""
	}
	return fmt.Sprintf("file %s is not in the target's input folder (%d files); upload it first [custom_validation_failed: Invalid image file]", jsonText(name), len(spec.Choices))
}

// modelFolder is the ComfyUI models folder an input's files come from.
func modelFolder(input string) string {
	switch {
	case input == "ckpt_name":
		return "models/checkpoints"
	case input == "lora_name":
		return "models/loras"
	case input == "vae_name":
		return "models/vae"
	case input == "unet_name":
		return "models/diffusion_models"
	case strings.HasPrefix(input, "clip_name"):
		return "models/text_encoders"
	case input == "control_net_name":
		return "models/controlnet"
	case input == "upscale_model":
		return "models/upscale_models"
	}
	return "models"
}

// someChoices names the first few of an option list: "none" when empty.
func someChoices(choices []any) string {
	const shown = 5
	if len(choices) == 0 {
		return "none"
	}
	var names []string
	for _, c := range choices[:min(len(choices), shown)] {
		names = append(names, jsonText(c))
	}
	s := strings.Join(names, ", ")
	if len(choices) > shown {
		s += fmt.Sprintf(" and %d more", len(choices)-shown)
	}
	return s
}

// outputType is an /object_info output entry's type; a list of choices is a
// COMBO.
func outputType(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "COMBO"
}

// checkValue checks a constant input the way a server's validation does:
// COMBO membership (V1 lists and V3 "COMBO" options; not for upload combos,
// whose node checks its files itself), numeric type and min/max. An empty
// option list (a server with no checkpoint files) accepts no value, as
// ComfyUI's validate_inputs answers value_not_in_list for it. It returns ""
// when the value is acceptable.
func checkValue(in NamedSpec, v any, o ValidateOptions) string {
	spec := in.Spec
	switch spec.Type {
	case "COMBO":
		if spec.HasUpload() {
			return ""
		}
		values := []any{v}
		if m, ok := v.(map[string]any); ok {
			if l, ok := m["__value__"].([]any); ok {
				values = l // a multiselect COMBO: every element must be a choice
			}
		}
		var bad any
		for _, e := range values {
			if !slices.ContainsFunc(spec.Choices, func(c any) bool { return equalJSON(c, e) }) {
				bad = e
				break
			}
		}
		if bad == nil {
			return ""
		}
		reason := fmt.Sprintf("value %v not in the target's list (%d choices) [value_not_in_list]", jsonText(bad), len(spec.Choices))
		if len(spec.Choices) == 0 {
			reason = fmt.Sprintf("value %v not in the target's list, which is empty [value_not_in_list]", jsonText(bad))
		}
		if !modelInputs[in.Name] {
			return reason
		}
		if o.NoAliases {
			reason += fmt.Sprintf("; the server has no such file in its %s folder (it lists %s)", modelFolder(in.Name), someChoices(spec.Choices))
		}
		switch {
		case o.Profile != nil:
			reason += o.Profile.hint(bad)
		case !o.NoAliases:
			reason += "; map the name to one the target has with a model alias"
		}
		return reason
	case "INT", "FLOAT":
		var f *big.Float
		switch t := v.(type) {
		case json.Number:
			f, _, _ = big.ParseFloat(t.String(), 10, 128, big.ToNearestEven)
		case string:
			f, _, _ = big.ParseFloat(strings.TrimSpace(t), 10, 128, big.ToNearestEven)
		case float64:
			f = big.NewFloat(t)
		}
		if f == nil {
			return fmt.Sprintf("value %s is not a number [invalid_input_type]", jsonText(v))
		}
		if spec.Type == "INT" {
			// The server runs int(val): a JSON number is truncated toward
			// zero, a string must be an integer literal.
			if str, isStr := v.(string); isStr {
				if _, ok := new(big.Int).SetString(strings.TrimSpace(str), 10); !ok {
					return fmt.Sprintf("value %s is not an integer [invalid_input_type]", jsonText(v))
				}
			}
			i, _ := f.Int(nil)
			f = new(big.Float).SetInt(i)
		}
		if lo, ok := bound(spec.Options["min"]); ok && f.Cmp(lo) < 0 {
			return fmt.Sprintf("value %s is smaller than min %v [value_smaller_than_min]", jsonText(v), spec.Options["min"])
		}
		if hi, ok := bound(spec.Options["max"]); ok && f.Cmp(hi) > 0 {
			return fmt.Sprintf("value %s is bigger than max %v [value_bigger_than_max]", jsonText(v), spec.Options["max"])
		}
	}
	return ""
}

func bound(v any) (*big.Float, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	f, _, err := big.ParseFloat(n.String(), 10, 128, big.ToNearestEven)
	return f, err == nil
}

// equalJSON compares two decoded JSON values, numbers by value.
func equalJSON(a, b any) bool {
	return jsonText(a) == jsonText(b)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
