package workflow

import (
	"fmt"
	"strings"
)

// virtualTypes are editor-only nodes that never reach the API prompt.
var virtualTypes = map[string]bool{
	"Note": true, "MarkdownNote": true, "PrimitiveNode": true, "Reroute": true,
}

// controlValues are the values of the hidden control_after_generate widget.
var controlValues = map[string]bool{
	"fixed": true, "increment": true, "decrement": true, "randomize": true,
}

// uploadValues are the values of a COMBO's upload-button widget.
var uploadValues = map[string]bool{"image": true, "video": true, "audio": true}

// maxHops bounds link resolution through reroutes and bypassed nodes.
const maxHops = 1000

// Convert converts a UI graph to an API prompt with the node schemas in
// info (an /object_info capture or a live server's), following the editor's
// own serialisation: widget values are mapped positionally over each class's
// widget inputs, editor-only nodes (notes, reroutes, primitives) and muted or
// bypassed nodes are dropped, links are resolved through reroutes,
// primitive values and bypassed nodes, and subgraph instances are expanded
// into their nodes (ids "<instance>:<inner>", as the editor names them).
//
// It returns a *ConversionError naming every node type the target lacks
// (with the subgraphs that use it), so that one run shows every problem.
func Convert(g *Graph, info ObjectInfo) (Prompt, error) {
	if g == nil {
		return nil, fmt.Errorf("convert workflow: no UI graph")
	}
	c := newConverter(g, info)
	if err := c.check(); err != nil {
		return nil, err
	}
	out := Prompt{}
	if err := c.emit(c.root, out, 0); err != nil {
		return nil, err
	}
	// Delete inputs that point at nodes that are not in the prompt.
	for _, node := range out {
		for name, v := range node.Inputs {
			if id, _, ok := AsLink(v); ok && out[id] == nil {
				delete(node.Inputs, name)
			}
		}
	}
	return out, nil
}

type converter struct {
	info ObjectInfo
	root *scope
	defs map[string]*Subgraph
	// scopes caches each subgraph definition's node and link maps.
	scopes map[string]*scope
}

func newConverter(g *Graph, info ObjectInfo) *converter {
	c := &converter{info: info, defs: map[string]*Subgraph{}, scopes: map[string]*scope{}}
	c.root = newScope(g.Nodes, g.Links)
	if g.Definitions != nil {
		for i := range g.Definitions.Subgraphs {
			c.defs[g.Definitions.Subgraphs[i].ID] = &g.Definitions.Subgraphs[i]
		}
	}
	return c
}

// active reports whether n becomes a node of the prompt (or, for a subgraph
// instance, is expanded into nodes of the prompt).
func (c *converter) active(n *GraphNode) bool {
	return !virtualTypes[n.Type] && n.Mode != ModeNever && n.Mode != ModeBypass
}

func nodeLabel(n *GraphNode) string {
	if n.Title != nil && *n.Title != "" {
		return fmt.Sprintf("%s %q", n.ID, *n.Title)
	}
	return string(n.ID)
}

// node converts one active node of scope sc.
func (c *converter) node(sc *scope, n *GraphNode) (*Node, error) {
	ni := c.info[n.Type]
	inputs, err := widgetInputs(n, ni)
	if err != nil {
		return nil, err
	}
	for _, in := range n.Inputs {
		if in.Link == nil {
			continue
		}
		name := in.InputName()
		r := c.resolve(sc, *in.Link)
		switch {
		case r.keep:
		case r.removed:
			delete(inputs, name)
		case r.constant:
			inputs[name] = wrapList(r.value)
		default:
			inputs[name] = Link(string(r.id), r.slot)
		}
	}
	title := ni.DisplayName
	if n.Title != nil && *n.Title != "" {
		title = *n.Title
	}
	if title == "" {
		title = n.Type
	}
	return &Node{ClassType: n.Type, Inputs: inputs, Meta: &Meta{Title: title}}, nil
}

// widgetInputs maps n's widgets_values onto its class's widget inputs.
func widgetInputs(n *GraphNode, ni *NodeInfo) (map[string]any, error) {
	out := map[string]any{}
	var widgets []NamedSpec
	for _, in := range ni.OrderedInputs() {
		if in.Spec.IsWidget() {
			widgets = append(widgets, in)
		}
	}
	raw := n.WidgetsValues
	var list []any
	var byName map[string]any
	if len(raw) > 0 && string(raw) != "null" {
		if err := decodeJSON(raw, &list); err != nil {
			if err2 := decodeJSON(raw, &byName); err2 != nil {
				return nil, fmt.Errorf("decode widgets_values: want a list or an object: %w", err)
			}
		}
	}
	if byName != nil {
		for _, w := range widgets {
			if v, ok := byName[w.Name]; ok {
				out[w.Name] = wrapList(v)
			}
		}
	} else {
		idx := 0
		for i, w := range widgets {
			if idx >= len(list) {
				break
			}
			out[w.Name] = wrapList(list[idx])
			idx++
			var next *NamedSpec
			if i+1 < len(widgets) {
				next = &widgets[i+1]
			}
			if idx < len(list) && hasCompanion(w, list[idx], next) {
				idx++
			}
			if idx < len(list) && w.Spec.HasUpload() && isMarker(list[idx], uploadValues, next) {
				idx++
			}
		}
	}
	// Widgets the file has no value for get the class default, as the
	// editor would have shown them.
	for _, w := range widgets {
		if _, ok := out[w.Name]; ok || !w.Required {
			continue
		}
		if d, ok := w.Spec.Default(); ok {
			out[w.Name] = wrapList(d)
		}
	}
	return out, nil
}

// hasCompanion reports whether v, the value after widget w, is w's hidden
// control_after_generate companion: w is flagged control_after_generate
// (an INT seed, or a COMBO), or (legacy) an INT named seed or noise_seed.
func hasCompanion(w NamedSpec, v any, next *NamedSpec) bool {
	if w.Spec.ControlAfterGenerate() { // INT seeds, and COMBOs some nodes flag
		s, ok := v.(string)
		return ok && controlValues[s]
	}
	if w.Spec.Type == "INT" && (w.Name == "seed" || w.Name == "noise_seed") {
		return isMarker(v, controlValues, next)
	}
	return false
}

// isMarker reports whether v is one of markers and cannot be the next
// widget's own value.
func isMarker(v any, markers map[string]bool, next *NamedSpec) bool {
	s, ok := v.(string)
	if !ok || !markers[s] {
		return false
	}
	if next == nil {
		return true
	}
	switch next.Spec.Type {
	case "STRING":
		return false
	case "COMBO":
		for _, c := range next.Spec.Choices {
			if c == v {
				return false
			}
		}
	}
	return true
}

// wrapList wraps a literal list as {"__value__": list} so that the server
// does not read it as a link.
func wrapList(v any) any {
	if l, ok := v.([]any); ok {
		return map[string]any{"__value__": l}
	}
	return v
}

// resolved is where a link's value really comes from.
type resolved struct {
	removed  bool // the source is not in the prompt: delete the input
	keep     bool // an unlinked subgraph input: the node's own widget value stands
	constant bool // the source is a PrimitiveNode or a promoted widget: value is the constant
	value    any
	id       string
	slot     int
}

// resolve follows a link of scope sc through reroutes, primitive nodes,
// bypassed nodes and subgraph boundaries to a real source.
func (c *converter) resolve(sc *scope, linkID int64) resolved {
	for range maxHops {
		l, ok := sc.links[linkID]
		if !ok {
			return resolved{removed: true}
		}
		if l.Origin == subgraphInputID {
			in, idx := sc.hostInput(l.OriginSlot)
			switch {
			case in == nil:
				return resolved{removed: true}
			case in.Link != nil:
				linkID, sc = *in.Link, sc.parent
				continue
			}
			if v, ok := sc.hostWidgetValue(idx); ok {
				return resolved{constant: true, value: v}
			}
			return resolved{keep: true}
		}
		src := sc.nodes[l.Origin]
		if src == nil {
			return resolved{removed: true}
		}
		switch {
		case src.Type == "Reroute":
			next, ok := firstLinked(src, func(GraphInput) bool { return true })
			if !ok {
				return resolved{removed: true}
			}
			linkID = next
		case src.Type == "PrimitiveNode":
			var vals []any
			if decodeJSON(src.WidgetsValues, &vals) != nil || len(vals) == 0 {
				return resolved{removed: true}
			}
			return resolved{constant: true, value: vals[0]}
		case src.Mode == ModeBypass:
			next, ok := bypassInput(src, l)
			if !ok {
				return resolved{removed: true}
			}
			linkID = next
		case src.Mode == ModeNever || virtualTypes[src.Type]:
			return resolved{removed: true}
		case c.isInstance(src):
			inner := c.child(sc, src)
			out, ok := inner.outputLink(l.OriginSlot)
			if !ok {
				return resolved{removed: true}
			}
			linkID, sc = out, inner
		default:
			return resolved{id: sc.prefix + string(src.ID), slot: l.OriginSlot}
		}
	}
	return resolved{removed: true}
}

// bypassInput picks the input a bypassed node passes through to the output
// of link l, as the editor does: the input in the same slot if its type
// matches the output's, else the first linked input of a matching type.
func bypassInput(n *GraphNode, l GraphLink) (int64, bool) {
	outType := l.Type
	if l.OriginSlot >= 0 && l.OriginSlot < len(n.Outputs) && n.Outputs[l.OriginSlot].Type != "" {
		outType = string(n.Outputs[l.OriginSlot].Type)
	}
	if s := l.OriginSlot; s >= 0 && s < len(n.Inputs) {
		in := n.Inputs[s]
		if in.Link != nil && typesMatch(string(in.Type), outType) {
			return *in.Link, true
		}
	}
	return firstLinked(n, func(in GraphInput) bool { return typesMatch(string(in.Type), outType) })
}

func firstLinked(n *GraphNode, ok func(GraphInput) bool) (int64, bool) {
	for _, in := range n.Inputs {
		if in.Link != nil && ok(in) {
			return *in.Link, true
		}
	}
	return 0, false
}

// typesMatch applies ComfyUI's link type rule: equal, "*", or overlapping
// comma-separated unions.
func typesMatch(a, b string) bool {
	if a == b || a == "*" || b == "*" || a == "" || b == "" {
		return true
	}
	for _, x := range strings.Split(a, ",") {
		for _, y := range strings.Split(b, ",") {
			if strings.TrimSpace(x) == strings.TrimSpace(y) {
				return true
			}
		}
	}
	return false
}

// ConversionError says why a UI graph cannot be converted for a target.
type ConversionError struct {
	// UnknownTypes are node classes the target's /object_info lacks.
	UnknownTypes []UnknownType
	// Subgraphs are the subgraphs whose expansion needs classes the target
	// lacks.
	Subgraphs []SubgraphUse
	// Recursive describes subgraphs that contain themselves.
	Recursive []string
}

// UnknownType is a class the target lacks, with the nodes that use it.
type UnknownType struct {
	Type  string
	Nodes []string
}

// SubgraphUse is a subgraph definition used by some nodes.
type SubgraphUse struct {
	ID, Name string
	// Nodes are the instances: id and title.
	Nodes []string
	// Missing are the classes inside the subgraph that the target lacks.
	Missing []string
}

func (e *ConversionError) Error() string {
	var b strings.Builder
	b.WriteString("cannot convert workflow for this target:")
	for _, s := range e.Subgraphs {
		fmt.Fprintf(&b, "\n  - subgraph %q (%s), used by node %s: the target lacks node types used inside it: %s",
			s.Name, s.ID, strings.Join(s.Nodes, ", node "), strings.Join(s.Missing, ", "))
	}
	for _, r := range e.Recursive {
		fmt.Fprintf(&b, "\n  - %s", r)
	}
	for _, u := range e.UnknownTypes {
		fmt.Fprintf(&b, "\n  - node type %s (node %s) is not in the target's /object_info", u.Type, strings.Join(u.Nodes, ", "))
		if isUUID(u.Type) {
			b.WriteString(" (a subgraph whose definition is missing from the file)")
		}
		if strings.HasPrefix(u.Type, "workflow>") || strings.HasPrefix(u.Type, "workflow/") {
			b.WriteString(" (a legacy group node: right-click it in the editor, Convert to nodes, and export again)")
		}
	}
	if len(e.Subgraphs) > 0 {
		b.WriteString("\nTry: install the missing nodes on the target, or replace them inside the subgraphs in the ComfyUI editor and export again")
	} else {
		b.WriteString("\nTry: install the missing custom nodes on the target, or remove those nodes from the workflow")
	}
	return b.String()
}

// isUUID reports whether s has the 8-4-4-4-12 shape of a subgraph id.
func isUUID(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 5 {
		return false
	}
	for i, n := range []int{8, 4, 4, 4, 12} {
		if len(parts[i]) != n {
			return false
		}
	}
	return true
}
