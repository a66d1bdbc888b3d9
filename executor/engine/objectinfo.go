package engine

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/regen-dev/regen/executor/internal/pyjson"
	"github.com/regen-dev/regen/executor/node"
)

// inputType returns the type element of an input spec: a type string, or
// the list of COMBO options.
func inputType(in node.Input, combo []string) any {
	if in.IsCombo() {
		if combo == nil {
			combo = []string{}
		}
		return combo
	}
	return in.Type
}

// number renders a bound or default in the input's type: integers for INT
// (uint64 above the int64 range), Python floats for FLOAT.
func number(in node.Input, v float64) any {
	if in.Type == node.TypeInt {
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
// ComfyUI's usual order.
func inputOptions(in node.Input) ordered {
	var o ordered
	if in.Default != nil {
		d := in.Default
		if f, ok := d.(float64); ok {
			d = number(in, f)
		}
		o = append(o, field{"default", d})
	}
	if in.Min != nil {
		o = append(o, field{"min", number(in, *in.Min)})
	}
	if in.Max != nil {
		o = append(o, field{"max", number(in, *in.Max)})
	}
	if in.Step != nil {
		o = append(o, field{"step", number(in, *in.Step)})
	}
	if in.Round != nil {
		o = append(o, field{"round", number(in, *in.Round)})
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
func inputConfig(in node.Input, combo []string) []any {
	opts := inputOptions(in)
	if len(opts) == 0 {
		return []any{inputType(in, combo)}
	}
	return []any{inputType(in, combo), opts}
}

// errorInputConfig is input_config in a validation error: always the pair
// [type, options], options {} when the input has none, as ComfyUI's
// validate_inputs sends (input_type, extra_info) while /object_info sends
// the input's own one-element tuple.
func errorInputConfig(in node.Input, combo []string) []any {
	return []any{inputType(in, combo), inputOptions(in)}
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
		cfg := inputConfig(in, combo)
		if in.Optional {
			opt = append(opt, field{in.Name, cfg})
			optOrder = append(optOrder, in.Name)
		} else {
			req = append(req, field{in.Name, cfg})
			reqOrder = append(reqOrder, in.Name)
		}
	}
	for _, h := range spec.Hidden {
		hid = append(hid, field{h.Name, h.Kind})
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
