package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Graph is a UI/editor-format workflow (litegraph schema 0.4 and the newer
// object-links form), decoded as far as conversion needs.
type Graph struct {
	Nodes       []GraphNode  `json:"nodes"`
	Links       []GraphLink  `json:"links"`
	Definitions *Definitions `json:"definitions,omitempty"`
	Version     any          `json:"version"`
}

// Definitions holds subgraph definitions (newer frontends).
type Definitions struct {
	Subgraphs []Subgraph `json:"subgraphs"`
}

// Subgraph is a subgraph definition; a node whose type is its ID is an
// instance of it.
type Subgraph struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Inputs  []SubgraphIO `json:"inputs"`
	Outputs []SubgraphIO `json:"outputs"`
	Nodes   []GraphNode  `json:"nodes"`
	Links   []GraphLink  `json:"links"`
}

// SubgraphIO is one of a subgraph's inputs or outputs. Inside the
// definition, links from node -10 slot k come from input k, and links to
// node -20 slot k feed output k.
type SubgraphIO struct {
	Name string `json:"name"`
	Type Text   `json:"type"`
}

// GraphNode is one editor node.
type GraphNode struct {
	ID            ID              `json:"id"`
	Type          string          `json:"type"`
	Mode          int             `json:"mode"`
	Title         *string         `json:"title,omitempty"`
	Inputs        []GraphInput    `json:"inputs"`
	Outputs       []GraphOutput   `json:"outputs"`
	WidgetsValues json.RawMessage `json:"widgets_values"`
}

// Node modes.
const (
	ModeAlways = 0
	ModeNever  = 2 // muted
	ModeBypass = 4
)

// GraphInput is a node's input socket.
type GraphInput struct {
	Name   string `json:"name"`
	Type   Text   `json:"type"`
	Link   *int64 `json:"link"`
	Widget *struct {
		Name string `json:"name"`
	} `json:"widget,omitempty"`
}

// InputName is the API input the socket feeds: the widget's name for a
// widget converted to a socket, else the socket's name.
func (in GraphInput) InputName() string {
	if in.Widget != nil && in.Widget.Name != "" {
		return in.Widget.Name
	}
	return in.Name
}

// GraphOutput is a node's output socket.
type GraphOutput struct {
	Name string `json:"name"`
	Type Text   `json:"type"`
}

// GraphLink is a link, from either the array form
// [id, origin, origin_slot, target, target_slot, type] or the object form.
type GraphLink struct {
	ID         int64
	Origin     ID
	OriginSlot int
	Target     ID
	TargetSlot int
	Type       string
}

// UnmarshalJSON accepts both link forms.
func (l *GraphLink) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var a []json.RawMessage
		if err := json.Unmarshal(data, &a); err != nil {
			return fmt.Errorf("link: %w", err)
		}
		if len(a) < 5 {
			return fmt.Errorf("link %s: want 6 elements", data)
		}
		var typ Text
		if len(a) > 5 {
			_ = json.Unmarshal(a[5], &typ)
		}
		l.Type = string(typ)
		for i, dst := range []any{&l.ID, &l.Origin, &l.OriginSlot, &l.Target, &l.TargetSlot} {
			if err := json.Unmarshal(a[i], dst); err != nil {
				return fmt.Errorf("link %s element %d: %w", data, i, err)
			}
		}
		return nil
	}
	var o struct {
		ID         int64 `json:"id"`
		OriginID   ID    `json:"origin_id"`
		OriginSlot int   `json:"origin_slot"`
		TargetID   ID    `json:"target_id"`
		TargetSlot int   `json:"target_slot"`
		Type       Text  `json:"type"`
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	*l = GraphLink{o.ID, o.OriginID, o.OriginSlot, o.TargetID, o.TargetSlot, string(o.Type)}
	return nil
}

// ID is a node id, written as a number or a string in the file.
type ID string

// UnmarshalJSON accepts a number or a string.
func (id *ID) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("node id %s: %w", data, err)
	}
	if i, err := n.Int64(); err == nil {
		*id = ID(strconv.FormatInt(i, 10))
		return nil
	}
	*id = ID(n.String())
	return nil
}

// Text is a string field that some files write as a number or a list
// (e.g. an input type of -1); those are kept as their JSON text.
type Text string

// UnmarshalJSON accepts any JSON value.
func (t *Text) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*t = Text(s)
		return nil
	}
	*t = Text(bytes.TrimSpace(data))
	return nil
}

func parseGraph(data []byte) (*Graph, error) {
	var g Graph
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("decode UI workflow: %w", err)
	}
	return &g, nil
}
