package engine

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/regen-dev/regen/executor/internal/pyjson"
	"github.com/regen-dev/regen/executor/node"
)

// inputType returns the type element of an input spec: a type string, or
// the list of COMBO options.
func inputType(in node.Input, combo []string, v3 bool) any {
	if in.IsCombo() && v3 {
		return "COMBO"
	}
	if in.IsCombo() {
		if combo == nil {
			combo = []string{}
		}
		return combo
	}
	return in.Type
}

// number renders option key (default, min, max, step, round) in the
// input's type: integers for INT (uint64 above the int64 range), Python
// floats for FLOAT, except the keys a FLOAT declares with an integer
// literal (node.Input.IntOptions).
func number(in node.Input, key string, v float64) any {
	if in.Type == node.TypeInt || (slices.Contains(in.IntOptions, key) && v == math.Trunc(v) && math.Abs(v) < math.Exp2(63)) {
		switch {
		case v >= math.Exp2(64):
			return json.Number(strconv.FormatUint(math.MaxUint64, 10))
		case v >= math.Exp2(63):
			return uint64(v)
		case v == math.Trunc(v) && math.Abs(v) < math.Exp2(63):
			return int64(v)
		}
	}
	return pyjson.Float(v)
}

// inputOptions returns the options object of an input spec, keys in
// ComfyUI's usual order (V1), or in the order of ComfyUI 0.33.0's V3
// Input.as_dict.
func inputOptions(in node.Input, combo []string, v3 bool) ordered {
	if v3 {
		return inputOptionsV3(in, combo)
	}
	var o ordered
	if in.Default != nil {
		d := in.Default
		if f, ok := d.(float64); ok {
			d = number(in, "default", f)
		}
		o = append(o, field{"default", d})
	}
	if in.Min != nil {
		o = append(o, field{"min", number(in, "min", *in.Min)})
	}
	if in.Max != nil {
		o = append(o, field{"max", number(in, "max", *in.Max)})
	}
	if in.Step != nil {
		o = append(o, field{"step", number(in, "step", *in.Step)})
	}
	if in.Round != nil {
		o = append(o, field{"round", number(in, "round", *in.Round)})
	}
	flags := []struct {
		on  bool
		key string
	}{
		{in.Multiline, "multiline"},
		{in.DynamicPrompts, "dynamicPrompts"},
		{in.ControlAfterGenerate, "control_after_generate"},
		{in.ImageUpload, "image_upload"},
		{in.ForceInput, "forceInput"},
	}
	for _, f := range flags {
		if f.on {
			o = append(o, field{f.key, true})
		}
	}
	if in.Tooltip != "" {
		o = append(o, field{"tooltip", in.Tooltip})
	}
	if in.Advanced {
		o = append(o, field{"advanced", true})
	}
	return o
}

// inputConfig is the [type, options] pair of an input (input_config in
// validation errors, the value of an input in /object_info).
func inputConfig(in node.Input, combo []string, v3 bool) []any {
	opts := inputOptions(in, combo, v3)
	if len(opts) == 0 && !v3 {
		return []any{inputType(in, combo, v3)}
	}
	return []any{inputType(in, combo, v3), nonNilOrdered(opts)}
}

// inputOptionsV3 is comfy_api's Input.as_dict for the kinds of input the
// built-in V3 classes have: tooltip, advanced, default, forceInput, then
// the type's own keys.
func inputOptionsV3(in node.Input, combo []string) ordered {
	var o ordered
	if in.Tooltip != "" {
		o = append(o, field{"tooltip", in.Tooltip})
	}
	if in.Advanced {
		o = append(o, field{"advanced", true})
	}
	if in.Default != nil {
		d := in.Default
		if f, ok := d.(float64); ok {
			d = number(in, "default", f)
		}
		o = append(o, field{"default", d})
	}
	if in.ForceInput {
		o = append(o, field{"forceInput", true})
	}
	if in.IsCombo() {
		if combo == nil {
			combo = []string{}
		}
		o = append(o, field{"multiselect", false}, field{"options", combo})
		if in.ControlAfterGenerate {
			o = append(o, field{"control_after_generate", true})
		}
		if in.ImageUpload {
			o = append(o, field{"image_upload", true})
		}
		return o
	}
	for _, b := range []struct {
		key string
		v   *float64
	}{{"min", in.Min}, {"max", in.Max}, {"step", in.Step}} {
		if b.v != nil {
			o = append(o, field{b.key, number(in, b.key, *b.v)})
		}
	}
	switch {
	case in.Round != nil:
		o = append(o, field{"round", number(in, "round", *in.Round)})
	case in.NoRound:
		o = append(o, field{"round", false})
	}
	for _, f := range []struct {
		on  bool
		key string
	}{{in.ControlAfterGenerate, "control_after_generate"}, {in.Multiline, "multiline"}, {in.DynamicPrompts, "dynamicPrompts"}} {
		if f.on {
			o = append(o, field{f.key, true})
		}
	}
	return o
}

func nonNilOrdered(o ordered) ordered {
	if o == nil {
		return ordered{}
	}
	return o
}

// errorInputConfig is input_config in a validation error: always the pair
// [type, options], options {} when the input has none, as ComfyUI's
// validate_inputs sends (input_type, extra_info) while /object_info sends
// the input's own one-element tuple.
func errorInputConfig(in node.Input, combo []string, v3 bool) []any {
	return []any{inputType(in, combo, v3), nonNilOrdered(inputOptions(in, combo, v3))}
}

// nodeInfo builds the /object_info entry of a node class. combos resolves
// COMBO folders to their current file lists.
func nodeInfo(spec node.Spec, combos func(node.Input) []string) ordered {
	var req, opt, hid ordered
	var reqOrder, optOrder, hidOrder []string
	for _, in := range spec.Inputs {
		var combo []string
		if in.IsCombo() {
			combo = combos(in)
		}
		cfg := inputConfig(in, combo, spec.V3)
		if in.Optional {
			opt = append(opt, field{in.Name, cfg})
			optOrder = append(optOrder, in.Name)
		} else {
			req = append(req, field{in.Name, cfg})
			reqOrder = append(reqOrder, in.Name)
		}
	}
	for _, h := range spec.Hidden {
		var kind any = h.Kind
		if spec.V3 {
			kind = []string{h.Kind} // V3: (hidden.value,)
		}
		hid = append(hid, field{h.Name, kind})
		hidOrder = append(hidOrder, h.Name)
	}
	input := ordered{{"required", req}}
	order := ordered{{"required", nonNil(reqOrder)}}
	if len(opt) > 0 {
		input = append(input, field{"optional", opt})
		order = append(order, field{"optional", optOrder})
	}
	if len(hid) > 0 {
		input = append(input, field{"hidden", hid})
		order = append(order, field{"hidden", hidOrder})
	}
	outs := make([]string, len(spec.Outputs))
	isList := make([]bool, len(spec.Outputs))
	names := make([]string, len(spec.Outputs))
	tips := make([]string, len(spec.Outputs))
	anyTip := false
	for i, o := range spec.Outputs {
		outs[i] = o.Type
		isList[i] = o.IsList
		names[i] = o.Name
		if names[i] == "" {
			names[i] = o.Type
		}
		tips[i] = o.Tooltip
		anyTip = anyTip || o.Tooltip != ""
	}
	display := spec.DisplayName
	if display == "" {
		display = spec.Name
	}
	module := spec.Module
	if module == "" {
		module = "nodes"
	}
	if spec.V3 {
		return nodeInfoV3(spec, input, order, outs, isList, names, tips, module)
	}
	info := ordered{
		{"input", input},
		{"input_order", order},
		{"is_input_list", spec.InputIsList},
		{"output", outs},
		{"output_is_list", isList},
		{"output_name", names},
		{"name", spec.Name},
		{"display_name", display},
		{"description", spec.Description},
		{"python_module", module},
		{"category", spec.Category},
		{"output_node", spec.OutputNode},
		// No built-in class has HAS_INTERMEDIATE_OUTPUT.
		{"has_intermediate_output", false},
	}
	if anyTip {
		info = append(info, field{"output_tooltips", tips})
	}
	if spec.Deprecated {
		info = append(info, field{"deprecated", true})
	}
	if spec.Experimental {
		info = append(info, field{"experimental", true})
	}
	// ComfyUI 0.33.0 (server.py node_info) always sends search_aliases,
	// and essentials_category when the class has one.
	info = append(info, field{"search_aliases", nonNil(spec.SearchAliases)})
	if spec.EssentialsCategory != "" {
		info = append(info, field{"essentials_category", spec.EssentialsCategory})
	}
	return info
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nodeInfoV3 is ComfyUI 0.33.0's asdict(NodeInfoV1) for a V3 class: every
// field, in the dataclass's order, null where the schema leaves it unset.
func nodeInfoV3(spec node.Spec, input, order ordered, outs []string, isList []bool, names, tips []string, module string) ordered {
	tooltips := make([]any, len(tips))
	for i, t := range tips {
		if t != "" {
			tooltips[i] = t
		}
	}
	var display, aliases, essentials any
	if spec.DisplayName != "" && spec.DisplayName != spec.Name {
		display = spec.DisplayName
	}
	if len(spec.SearchAliases) > 0 {
		aliases = spec.SearchAliases
	}
	if spec.EssentialsCategory != "" {
		essentials = spec.EssentialsCategory
	}
	return ordered{
		{"input", input},
		{"input_order", order},
		{"is_input_list", spec.InputIsList},
		{"output", outs},
		{"output_is_list", isList},
		{"output_name", names},
		{"output_tooltips", tooltips},
		{"output_matchtypes", nil},
		{"name", spec.Name},
		{"display_name", display},
		{"description", spec.Description},
		{"python_module", module},
		{"category", spec.Category},
		{"output_node", spec.OutputNode},
		{"deprecated", spec.Deprecated},
		{"experimental", spec.Experimental},
		{"dev_only", false},
		{"api_node", false},
		{"price_badge", nil},
		{"search_aliases", aliases},
		{"essentials_category", essentials},
		{"has_intermediate_output", false},
	}
}
