package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/regen-dev/regen/executor/internal/pyjson"
	"github.com/regen-dev/regen/executor/node"
)

// maxNodes bounds the nodes of one prompt (hostile input).
const maxNodes = 250_000

// pnode is one node of an API-format prompt as received.
type pnode struct {
	ID        string
	Class     string
	HasClass  bool
	InputKeys []string       // in received order
	Inputs    map[string]any // json.Number, string, bool, nil, []any, map[string]any
	Meta      json.RawMessage
	// Keys are the node's own keys in received order and Raw their
	// values: the prompt is written back in the client's order, unknown
	// keys included, as Python's dicts keep it.
	Keys []string
	Raw  []json.RawMessage
}

// graph is an API-format prompt with its node order kept.
type graph struct {
	Order []string
	Nodes map[string]*pnode
}

// decodeGraph parses an API-format prompt. A node that is not an object, or
// whose inputs are not an object, is reported as an invalid_prompt error.
func decodeGraph(raw []byte) (*graph, *ErrorObj) {
	if !pyjson.IsObject(raw) {
		return nil, &ErrorObj{Type: "invalid_prompt", Message: "Cannot execute because the prompt is not a JSON object.", Details: ""}
	}
	ids, vals, err := pyjson.Fields[json.RawMessage](raw)
	if err != nil {
		return nil, &ErrorObj{Type: "invalid_prompt", Message: "Cannot parse the prompt.", Details: err.Error()}
	}
	if len(ids) > maxNodes {
		return nil, &ErrorObj{Type: "invalid_prompt", Message: fmt.Sprintf("Cannot execute because the prompt has more than %d nodes.", maxNodes), Details: strconv.Itoa(len(ids)) + " nodes"}
	}
	g := &graph{Order: ids, Nodes: make(map[string]*pnode, len(ids))}
	for i, id := range ids {
		n := &pnode{ID: id, Inputs: map[string]any{}}
		g.Nodes[id] = n
		if !pyjson.IsObject(vals[i]) {
			continue // no class_type: reported by validation
		}
		keys, fv, err := pyjson.Fields[json.RawMessage](vals[i])
		if err != nil {
			return nil, &ErrorObj{Type: "invalid_prompt", Message: "Cannot parse node.", Details: fmt.Sprintf("Node ID '#%s': %v", id, err)}
		}
		n.Keys, n.Raw = keys, fv
		for j, k := range keys {
			switch k {
			case "class_type":
				if err := json.Unmarshal(fv[j], &n.Class); err == nil {
					n.HasClass = true
				}
			case "_meta":
				n.Meta = fv[j]
			case "inputs":
				if err := decodeInputs(n, fv[j]); err != nil {
					return nil, &ErrorObj{Type: "invalid_prompt", Message: "Cannot parse node inputs.", Details: fmt.Sprintf("Node ID '#%s': %v", id, err)}
				}
			}
		}
	}
	return g, nil
}

func decodeInputs(n *pnode, raw []byte) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	keys, vals, err := pyjson.Fields[any](raw)
	if err != nil {
		return err
	}
	n.InputKeys = keys
	for i, k := range keys {
		n.Inputs[k] = vals[i]
	}
	return nil
}

// encodeGraph writes the prompt back as JSON in received order (nodes, and
// each node's keys), with the constants of validated nodes replaced by their
// coerced values (as ComfyUI writes coerced values back into the prompt it
// stores and hands to nodes). isChanged, when not nil, adds "is_changed":
// [value] after the keys of each node it names: ComfyUI 0.33.0's
// IsChangedCache writes it into the prompt that SaveImage embeds.
func encodeGraph(g *graph, p *plan, isChanged map[string]string) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, id := range g.Order {
		n := g.Nodes[id]
		if i > 0 {
			b.WriteByte(',')
		}
		pyjson.Write(&b, id)
		b.WriteByte(':')
		var vn *vnode
		if p != nil {
			vn = p.nodes[id]
		}
		keys, raw := n.Keys, n.Raw
		if !n.HasClass || !hasKey(keys, "inputs") {
			// Not a node the engine could run; written as it always was.
			keys, raw = []string{"inputs", "class_type"}, []json.RawMessage{nil, nil}
			if len(n.Meta) > 0 {
				keys, raw = append(keys, "_meta"), append(raw, n.Meta)
			}
		}
		b.WriteByte('{')
		for j, k := range keys {
			if j > 0 {
				b.WriteByte(',')
			}
			pyjson.Write(&b, k)
			b.WriteByte(':')
			switch k {
			case "inputs":
				writeInputs(&b, n, vn)
			case "class_type":
				pyjson.Write(&b, n.Class)
			default:
				var c bytes.Buffer
				if json.Compact(&c, raw[j]) == nil {
					b.Write(c.Bytes())
				} else {
					b.WriteString("null")
				}
			}
		}
		if v, ok := isChanged[id]; ok && !hasKey(keys, "is_changed") {
			b.WriteString(`,"is_changed":[`)
			pyjson.Write(&b, v)
			b.WriteByte(']')
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes()
}

func hasKey(keys []string, k string) bool {
	for _, key := range keys {
		if key == k {
			return true
		}
	}
	return false
}

// writeInputs writes a node's inputs in received order, the constants of a
// validated node coerced.
func writeInputs(b *bytes.Buffer, n *pnode, vn *vnode) {
	b.WriteByte('{')
	for j, k := range n.InputKeys {
		if j > 0 {
			b.WriteByte(',')
		}
		pyjson.Write(b, k)
		b.WriteByte(':')
		v := n.Inputs[k]
		if vn != nil {
			if c, ok := vn.consts[k]; ok {
				v = c
			}
		}
		vb, err := pyjson.Marshal(v)
		if err != nil {
			vb = []byte("null")
		}
		b.Write(vb)
	}
	b.WriteByte('}')
}

// extraData is a prompt's extra_data, keys in received order.
type extraData struct {
	Keys []string
	Vals []json.RawMessage
}

// Secrets ComfyUI strips from extra_data before storing it.
var sensitiveExtra = map[string]bool{"auth_token_comfy_org": true, "api_key_comfy_org": true}

func decodeExtraData(raw []byte) (*extraData, error) {
	ed := &extraData{}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return ed, nil
	}
	keys, vals, err := pyjson.Fields[json.RawMessage](raw)
	if err != nil {
		return nil, fmt.Errorf("decode extra_data: %w", err)
	}
	for i, k := range keys {
		if sensitiveExtra[k] {
			continue
		}
		ed.Keys = append(ed.Keys, k)
		ed.Vals = append(ed.Vals, vals[i])
	}
	return ed, nil
}

func (ed *extraData) set(k string, v json.RawMessage) {
	for i, key := range ed.Keys {
		if key == k {
			ed.Vals[i] = v
			return
		}
	}
	ed.Keys = append(ed.Keys, k)
	ed.Vals = append(ed.Vals, v)
}

func (ed *extraData) get(k string) (json.RawMessage, bool) {
	for i, key := range ed.Keys {
		if key == k {
			return ed.Vals[i], true
		}
	}
	return nil, false
}

// pngInfo returns extra_pnginfo as ordered key/values.
func (ed *extraData) pngInfo() []node.KV {
	raw, ok := ed.get("extra_pnginfo")
	if !ok || !pyjson.IsObject(raw) {
		return nil
	}
	keys, vals, err := pyjson.Fields[json.RawMessage](raw)
	if err != nil {
		return nil
	}
	kvs := make([]node.KV, len(keys))
	for i := range keys {
		var c bytes.Buffer
		if json.Compact(&c, vals[i]) != nil {
			c.Reset()
			c.WriteString("null")
		}
		kvs[i] = node.KV{Key: keys[i], Value: c.Bytes()}
	}
	return kvs
}

// MarshalJSON writes extra_data in received order.
func (ed *extraData) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range ed.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		pyjson.Write(&b, k)
		b.WriteByte(':')
		var c bytes.Buffer
		if err := json.Compact(&c, ed.Vals[i]); err != nil {
			return nil, fmt.Errorf("compact extra_data %s: %w", k, err)
		}
		b.Write(c.Bytes())
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
