package engine

import (
	"bytes"
	"encoding/json"

	"github.com/regen-dev/regen/executor/internal/pyjson"
)

// ErrorObj is the top-level "error" of a rejected POST /prompt.
type ErrorObj struct {
	Type      string  `json:"type"`
	Message   string  `json:"message"`
	Details   string  `json:"details"`
	ExtraInfo ordered `json:"extra_info"`
}

// Reason is one validation failure of a node (ComfyUI's error dict).
type Reason struct {
	Type      string  `json:"type"`
	Message   string  `json:"message"`
	Details   string  `json:"details"`
	ExtraInfo ordered `json:"extra_info"`
}

// NodeError lists the reasons one node failed validation.
type NodeError struct {
	Errors           []Reason `json:"errors"`
	DependentOutputs []string `json:"dependent_outputs"`
	ClassType        string   `json:"class_type"`
}

// NodeErrors maps node ids to their errors, in the order they were found.
type NodeErrors struct {
	ids []string
	m   map[string]*NodeError
}

// Len returns the number of nodes with errors.
func (ne *NodeErrors) Len() int {
	if ne == nil {
		return 0
	}
	return len(ne.ids)
}

// Get returns the errors of node id.
func (ne *NodeErrors) Get(id string) (*NodeError, bool) {
	if ne == nil || ne.m == nil {
		return nil, false
	}
	e, ok := ne.m[id]
	return e, ok
}

func (ne *NodeErrors) add(id string, e *NodeError) {
	if ne.m == nil {
		ne.m = map[string]*NodeError{}
	}
	ne.ids = append(ne.ids, id)
	ne.m[id] = e
}

// MarshalJSON writes {id: NodeError} in discovery order.
func (ne *NodeErrors) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if ne != nil {
		for i, id := range ne.ids {
			if i > 0 {
				b.WriteByte(',')
			}
			pyjson.Write(&b, id)
			b.WriteByte(':')
			e, err := json.Marshal(ne.m[id])
			if err != nil {
				return nil, err
			}
			b.Write(e)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
