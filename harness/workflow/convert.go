package workflow

import (
	"fmt"
	"sort"
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
// bypassed nodes are dropped, and links are resolved through reroutes,
// primitive values and bypassed nodes.
//
// It returns a *ConversionError naming every node type the target lacks and
// every subgraph it cannot expand.
func Convert(g *Graph, info ObjectInfo) (Prompt, error) {
	if g == nil {
		return nil, fmt.Errorf("convert workflow: no UI graph")
	}
	c := newConverter(g, info)
	if err := c.check(); err != nil {
		return nil, err
	}
	out := Prompt{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if !c.active(n) {
			continue
		}
		node, err := c.node(n)
		if err != nil {
			return nil, fmt.Errorf("convert node %s (%s): %w", n.ID, n.Type, err)
		}
		out[string(n.ID)] = node
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
	g     *Graph
	info  ObjectInfo
	nodes map[ID]*GraphNode
	links map[int64]GraphLink
	defs  map[string]*Subgraph
}

func newConverter(g *Graph, info ObjectInfo) *converter {
	c := &converter{g: g, info: info, nodes: map[ID]*GraphNode{}, links: map[int64]GraphLink{}, defs: map[string]*Subgraph{}}
	for i := range g.Nodes {
		c.nodes[g.Nodes[i].ID] = &g.Nodes[i]
	}
	for _, l := range g.Links {
		c.links[l.ID] = l
	}
	if g.Definitions != nil {
		for i := range g.Definitions.Subgraphs {
			c.defs[g.Definitions.Subgraphs[i].ID] = &g.Definitions.Subgraphs[i]
		}
	}
	return c
}

// active reports whether n becomes a node of the prompt.
func (c *converter) active(n *GraphNode) bool {
	return !virtualTypes[n.Type] && n.Mode != ModeNever && n.Mode != ModeBypass
}

// check collects every class the target lacks, and every subgraph.
func (c *converter) check() error {
	unknown := map[string][]string{}
	subs := map[string]*SubgraphUse{}
	for i := range c.g.Nodes {
		n := &c.g.Nodes[i]
		if !c.active(n) || c.info[n.Type] != nil {
			continue
		}
		if def := c.defs[n.Type]; def != nil {
			u := subs[def.ID]
			if u == nil {
				u = &SubgraphUse{ID: def.ID, Name: def.Name, Missing: c.missingInside(def, map[string]bool{})}
				subs[def.ID] = u
			}
			u.Nodes = append(u.Nodes, nodeLabel(n))
			continue
		}
		unknown[n.Type] = append(unknown[n.Type], string(n.ID))
	}
	if len(unknown) == 0 && len(subs) == 0 {
		return nil
	}
	e := &ConversionError{}
	for t, ids := range unknown {
		sort.Slice(ids, func(i, j int) bool { return naturalLess(ids[i], ids[j]) })
		e.UnknownTypes = append(e.UnknownTypes, UnknownType{Type: t, Nodes: ids})
	}
	sort.Slice(e.UnknownTypes, func(i, j int) bool { return e.UnknownTypes[i].Type < e.UnknownTypes[j].Type })
	for _, u := range subs {
		e.Subgraphs = append(e.Subgraphs, *u)
	}
	sort.Slice(e.Subgraphs, func(i, j int) bool { return e.Subgraphs[i].ID < e.Subgraphs[j].ID })
	return e
}

// missingInside lists the classes used inside def (and nested subgraphs)
// that the target lacks.
func (c *converter) missingInside(def *Subgraph, seen map[string]bool) []string {
	if seen[def.ID] {
		return nil
	}
	seen[def.ID] = true
	set := map[string]bool{}
	for i := range def.Nodes {
		n := &def.Nodes[i]
		if !c.active(n) || c.info[n.Type] != nil {
			continue
		}
		if inner := c.defs[n.Type]; inner != nil {
			for _, t := range c.missingInside(inner, seen) {
				set[t] = true
			}
			continue
		}
		set[n.Type] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func nodeLabel(n *GraphNode) string {
	if n.Title != nil && *n.Title != "" {
		return fmt.Sprintf("%s %q", n.ID, *n.Title)
	}
	return string(n.ID)
}

// node converts one active node.
func (c *converter) node(n *GraphNode) (*Node, error) {
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
		r := c.resolve(*in.Link)
		switch {
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
// control_after_generate companion: w is an INT flagged
// control_after_generate, or (legacy) named seed or noise_seed.
func hasCompanion(w NamedSpec, v any, next *NamedSpec) bool {
	if w.Spec.Type != "INT" {
		return false
	}
	if w.Spec.ControlAfterGenerate() {
		s, ok := v.(string)
		return ok && controlValues[s]
	}
	if w.Name == "seed" || w.Name == "noise_seed" {
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
	constant bool // the source is a PrimitiveNode: value is the constant
	value    any
	id       ID
	slot     int
}

// resolve follows a link through reroutes, primitive nodes and bypassed
// nodes to a real source.
func (c *converter) resolve(linkID int64) resolved {
	for range maxHops {
		l, ok := c.links[linkID]
		if !ok {
			return resolved{removed: true}
		}
		src := c.nodes[l.Origin]
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
		default:
			return resolved{id: src.ID, slot: l.OriginSlot}
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
	// Subgraphs are subgraph instances the target cannot run.
	Subgraphs []SubgraphUse
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
		fmt.Fprintf(&b, "\n  - subgraph %q (%s), used by node %s: the target's /object_info does not know it and regen does not expand subgraphs",
			s.Name, s.ID, strings.Join(s.Nodes, ", node "))
		if len(s.Missing) > 0 {
			fmt.Fprintf(&b, "; inside it the target also lacks %s", strings.Join(s.Missing, ", "))
		}
	}
	for _, u := range e.UnknownTypes {
		fmt.Fprintf(&b, "\n  - node type %s (node %s) is not in the target's /object_info", u.Type, strings.Join(u.Nodes, ", "))
		if strings.HasPrefix(u.Type, "workflow>") || strings.HasPrefix(u.Type, "workflow/") {
			b.WriteString(" (a legacy group node: right-click it in the editor, Convert to nodes, and export again)")
		}
	}
	if len(e.Subgraphs) > 0 {
		b.WriteString("\nTry: unpack the subgraphs in the ComfyUI editor (right-click → Unpack Subgraph) and export again, or target a server that has these nodes")
	} else {
		b.WriteString("\nTry: install the missing custom nodes on the target, or remove those nodes from the workflow")
	}
	return b.String()
}
