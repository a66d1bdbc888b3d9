package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/internal/testnodes"
	"github.com/regen-dev/regen/executor/node"
)

func compact(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("compact %s: %v", s, err)
	}
	return b.String()
}

func testValidator(t testing.TB) *validator {
	reg, _ := testnodes.Registry(t)
	return &validator{
		reg:    reg,
		combos: func(in node.Input) []string { return in.Combo },
		env:    func(string) *node.Env { return &node.Env{} },
	}
}

func TestValidateErrorObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		prompt     string
		targets    []string
		wantErr    string // compact JSON of the top-level error, "" for none
		wantNodes  string // compact JSON of node_errors
		wantOutput []string
	}{
		{
			name:      "unknown class",
			prompt:    `{"1": {"class_type": "Nope", "inputs": {}}}`,
			wantErr:   `{"type":"missing_node_type","message":"Node 'Nope' not found. The custom node may not be installed.","details":"Node ID '#1'","extra_info":{"node_id":"1","class_type":"Nope","node_title":"Nope"}}`,
			wantNodes: `{}`,
		},
		{
			name:      "unknown class with a title",
			prompt:    `{"1": {"class_type": "TestOut", "inputs": {"value": 1}}, "2": {"class_type": "Gemini", "_meta": {"title": "Nano Banana"}, "inputs": {}}}`,
			wantErr:   `{"type":"missing_node_type","message":"Node 'Nano Banana' not found. The custom node may not be installed.","details":"Node ID '#2'","extra_info":{"node_id":"2","class_type":"Gemini","node_title":"Nano Banana"}}`,
			wantNodes: `{}`,
		},
		{
			name:      "missing class_type",
			prompt:    `{"7": {"inputs": {}}}`,
			wantErr:   `{"type":"missing_node_type","message":"Node 'ID #7' has no class_type. The workflow may be corrupted or a custom node is missing.","details":"Node ID '#7'","extra_info":{"node_id":"7","class_type":null,"node_title":null}}`,
			wantNodes: `{}`,
		},
		{
			name:      "missing class_type with a title",
			prompt:    `{"7": {"_meta": {"title": "My loader"}, "inputs": {}}}`,
			wantErr:   `{"type":"missing_node_type","message":"Node 'My loader' has no class_type. The workflow may be corrupted or a custom node is missing.","details":"Node ID '#7'","extra_info":{"node_id":"7","class_type":null,"node_title":"My loader"}}`,
			wantNodes: `{}`,
		},
		{
			name:      "no outputs",
			prompt:    `{"1": {"class_type": "TestConst", "inputs": {"value": 1}}}`,
			wantErr:   `{"type":"prompt_no_outputs","message":"Prompt has no outputs","details":"","extra_info":{}}`,
			wantNodes: `{}`,
		},
		{
			name:      "partial targets exclude every output",
			prompt:    `{"1": {"class_type": "TestOut", "inputs": {"value": 1}}}`,
			targets:   []string{"9"},
			wantErr:   `{"type":"prompt_no_outputs","message":"Prompt has no outputs","details":"","extra_info":{}}`,
			wantNodes: `{}`,
		},
		{
			name:      "required input missing",
			prompt:    `{"1": {"class_type": "TestOut", "inputs": {}}}`,
			wantErr:   `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Required input is missing: value","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"required_input_missing","message":"Required input is missing","details":"value","extra_info":{"input_name":"value"}}],"dependent_outputs":["1"],"class_type":"TestOut"}}`,
		},
		{
			// ComfyUI's validate_inputs runs int(val): a float is truncated.
			name:       "int from 8.5 is truncated",
			prompt:     `{"1": {"class_type": "TestConst", "inputs": {"value": 8.5}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`,
			wantNodes:  `{}`,
			wantOutput: []string{"2"},
		},
		{
			name:    "int from -0.5 truncates to 0, -1.5 to -1 (then below min)",
			prompt:  `{"1": {"class_type": "TestConst", "inputs": {"value": -0.5}}, "2": {"class_type": "TestConst", "inputs": {"value": -1.5}}, "3": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["2", 0]}}, "4": {"class_type": "TestOut", "inputs": {"value": ["3", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}}`,
			wantNodes: `{"2":{"errors":[{"type":"value_smaller_than_min","message":"Value -1 smaller than min of 0","details":"value",` +
				`"extra_info":{"input_name":"value","input_config":["INT",{"default":1,"min":0,"max":100}],"received_value":-1}}],"dependent_outputs":["4"],"class_type":"TestConst"}}`,
		},
		{
			name:    "int from the string 8.5 is not",
			prompt:  `{"1": {"class_type": "TestConst", "inputs": {"value": "8.5"}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"invalid_input_type","message":"Failed to convert an input value to a INT value","details":"value, 8.5, invalid literal for int() with base 10: '8.5'",` +
				`"extra_info":{"input_name":"value","input_config":["INT",{"default":1,"min":0,"max":100}],"received_value":"8.5","exception_message":"invalid literal for int() with base 10: '8.5'"}}],"dependent_outputs":["2"],"class_type":"TestConst"}}`,
		},
		{
			name:       "int from 8.0 is fine",
			prompt:     `{"1": {"class_type": "TestConst", "inputs": {"value": 8.0}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`,
			wantNodes:  `{}`,
			wantOutput: []string{"2"},
		},
		{
			name:    "value smaller than min",
			prompt:  `{"1": {"class_type": "TestOpts", "inputs": {"mode": "a", "strength": -0.5, "seed": 1}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Value -0.5 smaller than min of 0.0: strength","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"value_smaller_than_min","message":"Value -0.5 smaller than min of 0.0","details":"strength",` +
				`"extra_info":{"input_name":"strength","input_config":["FLOAT",{"default":0.5,"min":0.0,"max":1.0}],"received_value":-0.5}}],"dependent_outputs":["1"],"class_type":"TestOpts"}}`,
		},
		{
			name:    "value bigger than max",
			prompt:  `{"1": {"class_type": "TestConst", "inputs": {"value": 101}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"value_bigger_than_max","message":"Value 101 bigger than max of 100","details":"value",` +
				`"extra_info":{"input_name":"value","input_config":["INT",{"default":1,"min":0,"max":100}],"received_value":101}}],"dependent_outputs":["2"],"class_type":"TestConst"}}`,
		},
		{
			name:       "seed 2^64-1 is a uint64",
			prompt:     `{"1": {"class_type": "TestOpts", "inputs": {"mode": "b", "strength": 1, "seed": 18446744073709551615}}}`,
			wantNodes:  `{}`,
			wantOutput: []string{"1"},
		},
		{
			name:    "seed 2^64 is out of range",
			prompt:  `{"1": {"class_type": "TestOpts", "inputs": {"mode": "b", "strength": 1, "seed": 18446744073709551616}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Failed to convert an input value to a INT value: seed, 18446744073709551616, 18446744073709551616 is out of the 64-bit integer range","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"invalid_input_type","message":"Failed to convert an input value to a INT value","details":"seed, 18446744073709551616, 18446744073709551616 is out of the 64-bit integer range",` +
				`"extra_info":{"input_name":"seed","input_config":["INT",{"min":0,"max":18446744073709551615,"control_after_generate":true}],"received_value":18446744073709551616,"exception_message":"18446744073709551616 is out of the 64-bit integer range"}}],"dependent_outputs":["1"],"class_type":"TestOpts"}}`,
		},
		{
			name:    "combo value not in list",
			prompt:  `{"1": {"class_type": "TestOpts", "inputs": {"mode": "c", "strength": 1, "seed": 1}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Value not in list: mode: 'c' not in ['a', 'b']","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"value_not_in_list","message":"Value not in list","details":"mode: 'c' not in ['a', 'b']",` +
				`"extra_info":{"input_name":"mode","input_config":[["a","b"],{}],"received_value":"c"}}],"dependent_outputs":["1"],"class_type":"TestOpts"}}`,
		},
		{
			name:    "big combo has null input_config",
			prompt:  `{"1": {"class_type": "TestBigCombo", "inputs": {"pick": "zzz"}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Value not in list: pick: 'zzz' not in (list of length 25)","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"value_not_in_list","message":"Value not in list","details":"pick: 'zzz' not in (list of length 25)",` +
				`"extra_info":{"input_name":"pick","input_config":null,"received_value":"zzz"}}],"dependent_outputs":["1"],"class_type":"TestBigCombo"}}`,
		},
		{
			name:    "bad linked input",
			prompt:  `{"1": {"class_type": "TestOut", "inputs": {"value": ["2", 0, 1]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Bad linked input, must be a length-2 list of [node_id, slot_index]: value","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"bad_linked_input","message":"Bad linked input, must be a length-2 list of [node_id, slot_index]","details":"value",` +
				`"extra_info":{"input_name":"value","input_config":["INT,FLOAT",{}],"received_value":["2",0,1]}}],"dependent_outputs":["1"],"class_type":"TestOut"}}`,
		},
		{
			name:    "return type mismatch",
			prompt:  `{"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestOpts", "inputs": {"mode": "a", "strength": ["1", 0], "seed": 1}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Return type mismatch between linked nodes: strength, received_type(INT) mismatch input_type(FLOAT)","extra_info":{}}`,
			wantNodes: `{"2":{"errors":[{"type":"return_type_mismatch","message":"Return type mismatch between linked nodes","details":"strength, received_type(INT) mismatch input_type(FLOAT)",` +
				`"extra_info":{"input_name":"strength","input_config":["FLOAT",{"default":0.5,"min":0.0,"max":1.0}],"received_type":"INT","linked_node":["1",0]}}],"dependent_outputs":["2"],"class_type":"TestOpts"}}`,
		},
		{
			name:       "comma union matches",
			prompt:     `{"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`,
			wantNodes:  `{}`,
			wantOutput: []string{"2"},
		},
		{
			name:    "custom validation failed",
			prompt:  `{"1": {"class_type": "TestValidated", "inputs": {"value": 13}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Custom validation failed for node: value - 13 is unlucky","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"custom_validation_failed","message":"Custom validation failed for node","details":"value - 13 is unlucky","extra_info":{"input_name":"value"}}],` +
				`"dependent_outputs":["1"],"class_type":"TestValidated"}}`,
		},
		{
			name:    "panicking validator",
			prompt:  `{"1": {"class_type": "TestValidated", "inputs": {"value": 66}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Exception when validating node: panic: validator bug","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"exception_during_validation","message":"Exception when validating node","details":"panic: validator bug",` +
				`"extra_info":{"exception_type":"Panic","traceback":TRACEBACK}}],"dependent_outputs":["1"],"class_type":"TestValidated"}}`,
		},
		{
			name:       "validator skips min/max",
			prompt:     `{"1": {"class_type": "TestValidated", "inputs": {"value": 1000}}}`,
			wantNodes:  `{}`,
			wantOutput: []string{"1"},
		},
		{
			name: "one output survives: 200 with node_errors",
			prompt: `{"1": {"class_type": "TestOut", "inputs": {"value": 1}},` +
				`"2": {"class_type": "TestConst", "inputs": {"value": -1}}, "3": {"class_type": "TestOut", "inputs": {"value": ["2", 0]}}}`,
			wantNodes: `{"2":{"errors":[{"type":"value_smaller_than_min","message":"Value -1 smaller than min of 0","details":"value",` +
				`"extra_info":{"input_name":"value","input_config":["INT",{"default":1,"min":0,"max":100}],"received_value":-1}}],"dependent_outputs":["3"],"class_type":"TestConst"}}`,
			wantOutput: []string{"1"},
		},
		{
			name:    "cycle",
			prompt:  `{"1": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": ["2", 0]}}, "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["1", 0]}}, "3": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}}`,
			// ComfyUI 0.33.0: every node of the cycle, in the order of the path.
			wantNodes: `{"1":{"errors":[{"type":"dependency_cycle","message":"Dependency cycle detected","details":"1 (TestAdd) -\u003e 2 (TestAdd) -\u003e 1 (TestAdd)","extra_info":{"node_id":"1","cycle_nodes":["1","2"]}}],` +
				`"dependent_outputs":["3"],"class_type":"TestAdd"},` +
				`"2":{"errors":[{"type":"dependency_cycle","message":"Dependency cycle detected","details":"1 (TestAdd) -\u003e 2 (TestAdd) -\u003e 1 (TestAdd)","extra_info":{"node_id":"2","cycle_nodes":["1","2"]}}],` +
				`"dependent_outputs":["3"],"class_type":"TestAdd"}}`,
		},
		{
			name: "cycle below a node outside it",
			prompt: `{"1": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": 1}}, "2": {"class_type": "TestAdd", "inputs": {"a": ["3", 0], "b": 1}},` +
				`"3": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": 1}}, "4": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}}`,
			wantNodes: `{"2":{"errors":[{"type":"dependency_cycle","message":"Dependency cycle detected","details":"2 (TestAdd) -\u003e 3 (TestAdd) -\u003e 2 (TestAdd)","extra_info":{"node_id":"2","cycle_nodes":["2","3"]}}],` +
				`"dependent_outputs":["4"],"class_type":"TestAdd"},` +
				`"3":{"errors":[{"type":"dependency_cycle","message":"Dependency cycle detected","details":"2 (TestAdd) -\u003e 3 (TestAdd) -\u003e 2 (TestAdd)","extra_info":{"node_id":"3","cycle_nodes":["2","3"]}}],` +
				`"dependent_outputs":["4"],"class_type":"TestAdd"}}`,
		},
		{
			// ComfyUI 0.33.0: prompt['9'] raises KeyError in the output's own
			// validate_inputs, which validate_prompt catches.
			name:    "output links to missing node",
			prompt:  `{"1": {"class_type": "TestOut", "inputs": {"value": ["9", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Exception when validating node: '9'","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"exception_during_validation","message":"Exception when validating node","details":"'9'",` +
				`"extra_info":{"exception_type":"KeyError","traceback":[]}}],"dependent_outputs":["1"],"class_type":"TestOut"}}`,
		},
		{
			// ... and in an inner node, whose caller catches it: blamed on
			// the inner node with the caller's input and link.
			name:    "inner node links to missing node",
			prompt:  `{"2": {"class_type": "TestAdd", "inputs": {"a": ["9", 0], "b": 1}}, "1": {"class_type": "TestOut", "inputs": {"value": ["2", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}}`,
			wantNodes: `{"2":{"errors":[{"type":"exception_during_inner_validation","message":"Exception when validating inner node","details":"'9'",` +
				`"extra_info":{"input_name":"value","input_config":["INT,FLOAT",{}],"exception_message":"'9'","exception_type":"KeyError","traceback":[],"linked_node":["2",0]}}],"dependent_outputs":["1"],"class_type":"TestAdd"}}`,
		},
		{
			// ComfyUI 0.33.0 indexes RETURN_TYPES (a tuple) with the slot.
			name:    "link with a string slot",
			prompt:  `{"2": {"class_type": "TestAdd", "inputs": {"a": 1, "b": 1}}, "1": {"class_type": "TestOut", "inputs": {"value": ["2", "0"]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Exception when validating node: tuple indices must be integers or slices, not str","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"exception_during_validation","message":"Exception when validating node","details":"tuple indices must be integers or slices, not str",` +
				`"extra_info":{"exception_type":"TypeError","traceback":[]}}],"dependent_outputs":["1"],"class_type":"TestOut"}}`,
		},
		{
			name:    "link with a float slot",
			prompt:  `{"2": {"class_type": "TestAdd", "inputs": {"a": 1, "b": 1}}, "1": {"class_type": "TestOut", "inputs": {"value": ["2", 0.0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Exception when validating node: tuple indices must be integers or slices, not float","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"exception_during_validation","message":"Exception when validating node","details":"tuple indices must be integers or slices, not float",` +
				`"extra_info":{"exception_type":"TypeError","traceback":[]}}],"dependent_outputs":["1"],"class_type":"TestOut"}}`,
		},
		{
			name:    "link with a number for a node id",
			prompt:  `{"2": {"class_type": "TestAdd", "inputs": {"a": 1, "b": 1}}, "1": {"class_type": "TestOut", "inputs": {"value": [2, 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Exception when validating node: 2","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"exception_during_validation","message":"Exception when validating node","details":"2",` +
				`"extra_info":{"exception_type":"KeyError","traceback":[]}}],"dependent_outputs":["1"],"class_type":"TestOut"}}`,
		},
		{
			name:    "inner node without inputs",
			prompt:  `{"2": {"class_type": "TestAdd"}, "1": {"class_type": "TestOut", "inputs": {"value": ["2", 0]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}}`,
			wantNodes: `{"2":{"errors":[{"type":"exception_during_inner_validation","message":"Exception when validating inner node","details":"'inputs'",` +
				`"extra_info":{"input_name":"value","input_config":["INT,FLOAT",{}],"exception_message":"'inputs'","exception_type":"KeyError","traceback":[],"linked_node":["2",0]}}],"dependent_outputs":["1"],"class_type":"TestAdd"}}`,
		},
		{
			name:    "link to missing output slot",
			prompt:  `{"2": {"class_type": "TestAdd", "inputs": {"a": 1, "b": 1}}, "1": {"class_type": "TestOut", "inputs": {"value": ["2", 3]}}}`,
			wantErr: `{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"Exception when validating node: tuple index out of range","extra_info":{}}`,
			wantNodes: `{"1":{"errors":[{"type":"exception_during_validation","message":"Exception when validating node","details":"tuple index out of range",` +
				`"extra_info":{"exception_type":"IndexError","traceback":[]}}],"dependent_outputs":["1"],"class_type":"TestOut"}}`,
		},
		{
			name:       "unreachable invalid node is ignored",
			prompt:     `{"1": {"class_type": "TestConst", "inputs": {"value": "x"}}, "2": {"class_type": "TestOut", "inputs": {"value": 3}}}`,
			wantNodes:  `{}`,
			wantOutput: []string{"2"},
		},
		{
			name:       "partial execution targets",
			prompt:     `{"1": {"class_type": "TestOut", "inputs": {"value": 1}}, "2": {"class_type": "TestOut", "inputs": {}}}`,
			targets:    []string{"1"},
			wantNodes:  `{}`,
			wantOutput: []string{"1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, perr := decodeGraph([]byte(tc.prompt))
			if perr != nil {
				t.Fatalf("decode: %+v", perr)
			}
			p, verr, ne := testValidator(t).validate(g, tc.targets)
			gotErr := ""
			if verr != nil {
				b, _ := json.Marshal(verr)
				gotErr = string(b)
			}
			if gotErr != tc.wantErr {
				t.Errorf("error:\n got %s\nwant %s", gotErr, tc.wantErr)
			}
			gotNodes, _ := json.Marshal(ne)
			if strings.Contains(tc.wantNodes, "TRACEBACK") {
				// The stack's text varies; check it is a non-empty list.
				i := strings.Index(string(gotNodes), `"traceback":[`)
				j := strings.Index(string(gotNodes), `]}}]`)
				if i < 0 || j < i || j-i < len(`"traceback":["x"`) {
					t.Fatalf("no traceback list in %s", gotNodes)
				}
				gotNodes = []byte(string(gotNodes[:i]) + `"traceback":TRACEBACK` + string(gotNodes[j+1:]))
				if string(gotNodes) != tc.wantNodes {
					t.Errorf("node_errors:\n got %s\nwant %s", gotNodes, tc.wantNodes)
				}
				return
			}
			if string(gotNodes) != compact(t, tc.wantNodes) {
				t.Errorf("node_errors:\n got %s\nwant %s", gotNodes, compact(t, tc.wantNodes))
			}
			if tc.wantErr == "" {
				if p == nil {
					t.Fatalf("no plan")
				}
				if !reflect.DeepEqual(p.outputs, tc.wantOutput) {
					t.Errorf("outputs = %v, want %v", p.outputs, tc.wantOutput)
				}
			}
		})
	}
}

func TestValidateCoercionWritesBack(t *testing.T) {
	t.Parallel()
	g, _ := decodeGraph([]byte(`{"1": {"class_type": "TestOpts", "inputs": {"seed": 8.75, "strength": "0.25", "mode": "a", "label": 12, "flag": "true", "_x": 1}}}`))
	p, verr, _ := testValidator(t).validate(g, nil)
	if verr != nil {
		t.Fatalf("validate: %+v", verr)
	}
	got := string(encodeGraph(g, p, nil))
	want := `{"1":{"class_type":"TestOpts","inputs":{"seed":8,"strength":0.25,"mode":"a","label":"12","flag":true,"_x":1}}}`
	if got != want {
		t.Errorf("encoded prompt:\n got %s\nwant %s", got, want)
	}
	vn := p.nodes["1"]
	for name, want := range map[string]any{"seed": int64(8), "strength": 0.25, "label": "12", "flag": true} {
		if vn.consts[name] != want {
			t.Errorf("%s = %#v, want %#v", name, vn.consts[name], want)
		}
	}
}

func TestValidateValueWrapper(t *testing.T) {
	t.Parallel()
	g, _ := decodeGraph([]byte(`{"1": {"class_type": "TestOpts", "inputs": {"seed": 1, "strength": 0, "mode": "a", "label": {"__value__": ["x", "y"]}}}}`))
	p, verr, _ := testValidator(t).validate(g, nil)
	if verr != nil {
		t.Fatalf("validate: %+v", verr)
	}
	if got := p.nodes["1"].consts["label"]; got != "['x', 'y']" {
		t.Errorf("label = %#v, want the str() of the unwrapped list", got)
	}
}

func TestValidateDeepChain(t *testing.T) {
	t.Parallel()
	const n = 100_000
	var b strings.Builder
	b.WriteString(`{"0": {"class_type": "TestConst", "inputs": {"value": 1}}`)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, `, "%d": {"class_type": "TestAdd", "inputs": {"a": ["%d", 0], "b": ["%d", 0]}}`, i, i-1, i-1)
	}
	fmt.Fprintf(&b, `, "out": {"class_type": "TestOut", "inputs": {"value": ["%d", 0]}}}`, n-1)
	g, perr := decodeGraph([]byte(b.String()))
	if perr != nil {
		t.Fatalf("decode: %+v", perr)
	}
	p, verr, _ := testValidator(t).validate(g, nil)
	if verr != nil {
		t.Fatalf("validate: %+v", verr)
	}
	if len(p.nodes) != n+1 {
		t.Errorf("plan has %d nodes, want %d", len(p.nodes), n+1)
	}
}

func TestCompareBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		b    float64
		want int
	}{
		{"int equal", int64(5), 5, 0},
		{"int below", int64(4), 5, -1},
		{"int above", int64(6), 5, 1},
		{"int beyond float precision", int64(1<<53 + 1), 1 << 53, 1},
		{"int under a bound past int64", int64(math.MaxInt64), math.Exp2(63), -1},
		{"int at the int64 minimum", int64(math.MinInt64), -math.Exp2(63), 0},
		{"int against a fractional bound", int64(2), 2.5, -1},
		{"uint above a negative bound", uint64(0), -1, 1},
		{"uint under a bound past uint64", uint64(math.MaxUint64), math.Exp2(64), -1},
		{"uint beyond float precision", uint64(math.MaxUint64), math.Exp2(64) - 2048, 1},
		{"uint equal", uint64(7), 7, 0},
		{"float equal", 1.5, 1.5, 0},
		{"float below", 1.25, 1.5, -1},
		{"float NaN compares equal", math.NaN(), 1, 0},
		{"not a number", "x", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := compareBound(tc.v, tc.b); got != tc.want {
				t.Errorf("compareBound(%v, %v) = %d, want %d", tc.v, tc.b, got, tc.want)
			}
		})
	}
}

// The prompt is written back in the client's order, node keys too, with
// keys the engine does not know kept and is_changed appended where given
// (ComfyUI 0.33.0 keeps Python's dict order and IsChangedCache adds
// is_changed to the prompt SaveImage embeds).
func TestEncodeGraphKeepsClientOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prompt string
		isChanged    map[string]string
		want         string
	}{
		{
			name:   "node keys in received order",
			prompt: `{"2": {"_meta": {"title": "T"}, "inputs": {"value": ["1", 0]}, "class_type": "TestOut"}, "1": {"class_type": "TestConst", "inputs": {"value": 3}}}`,
			want:   `{"2":{"_meta":{"title":"T"},"inputs":{"value":["1",0]},"class_type":"TestOut"},"1":{"class_type":"TestConst","inputs":{"value":3}}}`,
		},
		{
			name:   "unknown keys kept",
			prompt: `{"1": {"class_type": "TestOut", "x-note": [1, {"a": 2}], "inputs": {"value": 2.0}}}`,
			want:   `{"1":{"class_type":"TestOut","x-note":[1,{"a":2}],"inputs":{"value":2.0}}}`,
		},
		{
			name:      "is_changed appended",
			prompt:    `{"1": {"inputs": {"value": 2}, "class_type": "TestOut"}}`,
			isChanged: map[string]string{"1": "abc"},
			want:      `{"1":{"inputs":{"value":2},"class_type":"TestOut","is_changed":["abc"]}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, perr := decodeGraph([]byte(tc.prompt))
			if perr != nil {
				t.Fatalf("decode: %+v", perr)
			}
			p, verr, _ := testValidator(t).validate(g, nil)
			if verr != nil {
				t.Fatalf("validate: %+v", verr)
			}
			if got := string(encodeGraph(g, p, tc.isChanged)); got != tc.want {
				t.Errorf("encoded prompt:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
