package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"os"
)

// ObjectInfo is a decoded GET /object_info response: class name → schema.
type ObjectInfo map[string]*NodeInfo

// NodeInfo is one class's schema as /object_info describes it.
type NodeInfo struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Category    string     `json:"category"`
	Input       Inputs     `json:"input"`
	InputOrder  InputOrder `json:"input_order"`
	Output      []any      `json:"output"`
	OutputName  []string   `json:"output_name"`
	OutputNode  bool       `json:"output_node"`
}

// Inputs are a class's declared inputs, in declaration order.
type Inputs struct {
	Required Section        `json:"required"`
	Optional Section        `json:"optional"`
	Hidden   map[string]any `json:"hidden"`
}

// InputOrder is the input_order object of newer servers.
type InputOrder struct {
	Required []string `json:"required"`
	Optional []string `json:"optional"`
	Hidden   []string `json:"hidden"`
}

// Section is an ordered set of input specs (JSON object order is kept).
type Section struct {
	Names []string
	Specs map[string]InputSpec
}

// UnmarshalJSON decodes an object keeping its key order.
func (s *Section) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("input section: want an object, got %v", tok)
	}
	s.Specs = map[string]InputSpec{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := kt.(string)
		var spec InputSpec
		if err := dec.Decode(&spec); err != nil {
			return fmt.Errorf("input %q: %w", name, err)
		}
		if _, dup := s.Specs[name]; !dup {
			s.Names = append(s.Names, name)
		}
		s.Specs[name] = spec
	}
	_, err = dec.Token()
	return err
}

// InputSpec is one input's [type, options] pair.
type InputSpec struct {
	// Type is "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO" (for both V1
	// lists and V3 "COMBO"), or a link type such as "MODEL".
	Type string
	// Choices are a COMBO's allowed values.
	Choices []any
	// Options is the second element: default, min, max, forceInput, ….
	Options map[string]any
}

// UnmarshalJSON decodes [type] or [type, options].
func (s *InputSpec) UnmarshalJSON(data []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		return fmt.Errorf("input spec: %w", err)
	}
	if len(parts) == 0 {
		return fmt.Errorf("input spec: empty")
	}
	if len(parts) > 1 {
		if err := decodeJSON(parts[1], &s.Options); err != nil {
			return fmt.Errorf("input spec options: %w", err)
		}
	}
	var name string
	if err := json.Unmarshal(parts[0], &name); err == nil {
		s.Type = name
		if name == "COMBO" {
			if opts, ok := s.Options["options"].([]any); ok {
				s.Choices = opts
			}
		}
		return nil
	}
	var choices []any
	if err := decodeJSON(parts[0], &choices); err != nil {
		return fmt.Errorf("input spec type: want a string or a list: %w", err)
	}
	s.Type, s.Choices = "COMBO", choices
	return nil
}

// IsWidget reports whether the frontend renders the input as a widget, i.e.
// whether it owns a slot in widgets_values.
func (s InputSpec) IsWidget() bool {
	if truthy(s.Options["forceInput"]) || truthy(s.Options["defaultInput"]) {
		return false
	}
	switch s.Type {
	case "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO":
		return true
	}
	return false
}

// ControlAfterGenerate reports whether the input is flagged as a seed whose
// value the frontend changes after each queue.
func (s InputSpec) ControlAfterGenerate() bool {
	v, ok := s.Options["control_after_generate"]
	if !ok {
		return false
	}
	if b, isBool := v.(bool); isBool {
		return b
	}
	return v != nil
}

// HasUpload reports whether a COMBO input gets an upload button widget
// (whose value follows the input's own in widgets_values).
func (s InputSpec) HasUpload() bool {
	for _, k := range []string{"image_upload", "video_upload", "audio_upload", "animated_image_upload"} {
		if truthy(s.Options[k]) {
			return true
		}
	}
	return false
}

// Default returns the input's default: options.default, else a COMBO's first
// choice.
func (s InputSpec) Default() (any, bool) {
	if d, ok := s.Options["default"]; ok {
		return d, true
	}
	if s.Type == "COMBO" && len(s.Choices) > 0 {
		return s.Choices[0], true
	}
	return nil, false
}

// Max returns options.max as an integer, if there is one.
func (s InputSpec) Max() (*big.Int, bool) {
	n, ok := s.Options["max"].(json.Number)
	if !ok {
		return nil, false
	}
	v, ok := new(big.Int).SetString(n.String(), 10)
	return v, ok
}

func truthy(v any) bool {
	b, ok := v.(bool)
	return ok && b
}

// NamedSpec is an input name with its spec.
type NamedSpec struct {
	Name     string
	Spec     InputSpec
	Required bool
}

// OrderedInputs returns the required then the optional inputs, each section
// in input_order (names it lists first, then any others in declaration
// order). This is the order of a node's widgets in widgets_values.
func (n *NodeInfo) OrderedInputs() []NamedSpec {
	var out []NamedSpec
	add := func(sec Section, order []string, required bool) {
		seen := map[string]bool{}
		for _, name := range order {
			if spec, ok := sec.Specs[name]; ok && !seen[name] {
				seen[name] = true
				out = append(out, NamedSpec{Name: name, Spec: spec, Required: required})
			}
		}
		for _, name := range sec.Names {
			if !seen[name] {
				seen[name] = true
				out = append(out, NamedSpec{Name: name, Spec: sec.Specs[name], Required: required})
			}
		}
	}
	add(n.Input.Required, n.InputOrder.Required, true)
	add(n.Input.Optional, n.InputOrder.Optional, false)
	return out
}

// Spec returns the named required or optional input's spec.
func (n *NodeInfo) Spec(name string) (InputSpec, bool) {
	if s, ok := n.Input.Required.Specs[name]; ok {
		return s, true
	}
	s, ok := n.Input.Optional.Specs[name]
	return s, ok
}

// ParseObjectInfo decodes a /object_info response.
func ParseObjectInfo(data []byte) (ObjectInfo, error) {
	var info ObjectInfo
	if err := decodeJSON(data, &info); err != nil {
		return nil, fmt.Errorf("decode object_info: %w", err)
	}
	for name, n := range info {
		if n == nil {
			delete(info, name)
			continue
		}
		if n.Name == "" {
			n.Name = name
		}
	}
	return info, nil
}

// LoadObjectInfo reads an /object_info capture from a file.
func LoadObjectInfo(path string) (ObjectInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read object_info: %w", err)
	}
	info, err := ParseObjectInfo(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return info, nil
}

// Merge returns a new ObjectInfo with other's classes added to (and
// replacing) o's.
func (o ObjectInfo) Merge(other ObjectInfo) ObjectInfo {
	out := make(ObjectInfo, len(o)+len(other))
	maps.Copy(out, o)
	maps.Copy(out, other)
	return out
}
