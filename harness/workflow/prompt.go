package workflow

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Prompt is an API-format ComfyUI prompt: node id → node. It is what POST
// /prompt accepts under the "prompt" key.
//
// Input values are plain JSON values as decoded with json.Decoder.UseNumber:
// numbers are json.Number (so 64-bit seeds survive), links are two-element
// []any{"<node id>", json.Number("<slot>")}, and literal lists are wrapped as
// {"__value__": [...]}.
type Prompt map[string]*Node

// Node is one API-format node.
type Node struct {
	ClassType string         `json:"class_type"`
	Inputs    map[string]any `json:"inputs"`
	Meta      *Meta          `json:"_meta,omitempty"`
}

// Meta is a node's "_meta" object; the server ignores it.
type Meta struct {
	Title string `json:"title"`
}

// IDs returns the prompt's node ids in natural order ("2" < "10" < "a").
func (p Prompt) IDs() []string {
	ids := make([]string, 0, len(p))
	for id := range p {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return naturalLess(ids[i], ids[j]) })
	return ids
}

// Clone returns a deep copy of p.
func (p Prompt) Clone() Prompt {
	if p == nil {
		return nil
	}
	out := make(Prompt, len(p))
	for id, n := range p {
		if n == nil {
			out[id] = nil
			continue
		}
		c := &Node{ClassType: n.ClassType, Inputs: make(map[string]any, len(n.Inputs))}
		for k, v := range n.Inputs {
			c.Inputs[k] = cloneValue(v)
		}
		if n.Meta != nil {
			m := *n.Meta
			c.Meta = &m
		}
		out[id] = c
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = cloneValue(e)
		}
		return c
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, e := range t {
			c[k] = cloneValue(e)
		}
		return c
	default:
		return v
	}
}

// MarshalJSON writes p deterministically: node ids in natural order, then
// class_type, inputs (keys sorted) and _meta; HTML characters are not
// escaped. (json.Marshal of a value holding p re-escapes <, > and &; call
// MarshalJSON, Indent or Hash for the canonical bytes.)
func (p Prompt) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, id := range p.IDs() {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encodeValue(&b, id); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		n := p[id]
		if n == nil {
			b.WriteString("null")
			continue
		}
		b.WriteString(`{"class_type":`)
		if err := encodeValue(&b, n.ClassType); err != nil {
			return nil, err
		}
		b.WriteString(`,"inputs":`)
		inputs := n.Inputs
		if inputs == nil {
			inputs = map[string]any{}
		}
		if err := encodeValue(&b, inputs); err != nil {
			return nil, fmt.Errorf("encode node %s: %w", id, err)
		}
		if n.Meta != nil {
			b.WriteString(`,"_meta":`)
			if err := encodeValue(&b, n.Meta); err != nil {
				return nil, err
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encodeValue appends v's JSON (map keys sorted, HTML not escaped) to b.
func encodeValue(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode appends a newline
	return nil
}

// Indent returns p as indented, deterministic JSON ending in a newline.
func (p Prompt) Indent() ([]byte, error) {
	raw, err := p.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent prompt: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// Hash returns the hex SHA-256 of p's deterministic JSON.
func (p Prompt) Hash() (string, error) {
	raw, err := p.MarshalJSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// ParsePrompt decodes an API-format prompt, keeping numbers as json.Number.
func ParsePrompt(data []byte) (Prompt, error) {
	var p Prompt
	if err := decodeJSON(data, &p); err != nil {
		return nil, fmt.Errorf("decode prompt: %w", err)
	}
	for id, n := range p {
		if n == nil {
			return nil, fmt.Errorf("decode prompt: node %q is null", id)
		}
		if n.Inputs == nil {
			n.Inputs = map[string]any{}
		}
	}
	return p, nil
}

func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// Link returns the API-format link value [id, slot].
func Link(id string, slot int) []any {
	return []any{id, json.Number(strconv.Itoa(slot))}
}

// AsLink reports whether v is a link [id, slot] and returns its parts.
func AsLink(v any) (id string, slot int, ok bool) {
	l, isList := v.([]any)
	if !isList || len(l) != 2 {
		return "", 0, false
	}
	id, ok = l[0].(string)
	if !ok {
		return "", 0, false
	}
	switch s := l[1].(type) {
	case json.Number:
		f, err := s.Float64()
		if err != nil {
			return "", 0, false
		}
		return id, int(f), true
	case float64:
		return id, int(s), true
	case int:
		return id, s, true
	}
	return "", 0, false
}

// naturalLess orders strings with digit runs compared numerically, so node
// ids sort 2 < 10 < 10:3 < a.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		switch {
		case da && db:
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			ta, tb := trimZeros(na), trimZeros(nb)
			if len(ta) != len(tb) {
				return len(ta) < len(tb)
			}
			if ta != tb {
				return ta < tb
			}
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			a, b = ra, rb
		case da != db:
			return da // digits before anything else
		default:
			if a[0] != b[0] {
				return a[0] < b[0]
			}
			a, b = a[1:], b[1:]
		}
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
