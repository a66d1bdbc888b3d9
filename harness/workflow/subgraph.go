package workflow

import (
	"fmt"
	"slices"
	"sort"
)

// The pseudo node ids of a subgraph definition's input and output boxes.
const (
	subgraphInputID  ID = "-10"
	subgraphOutputID ID = "-20"
)

// maxDepth bounds subgraph nesting (and catches self-referencing
// definitions).
const maxDepth = 16

// scope is one graph level: the root graph, or one instance of a subgraph
// definition, whose nodes get ids prefixed with the instance's path
// ("10:" for instance 10, "10:3:" for instance 3 inside it), as the
// editor's own serialisation names them.
type scope struct {
	prefix string
	nodes  map[ID]*GraphNode
	links  map[int64]GraphLink
	order  []*GraphNode
	def    *Subgraph
	host   *GraphNode // the instance node, in parent
	parent *scope
}

func newScope(nodes []GraphNode, links []GraphLink) *scope {
	sc := &scope{nodes: map[ID]*GraphNode{}, links: map[int64]GraphLink{}}
	for i := range nodes {
		sc.nodes[nodes[i].ID] = &nodes[i]
		sc.order = append(sc.order, &nodes[i])
	}
	for _, l := range links {
		sc.links[l.ID] = l
	}
	return sc
}

// isInstance reports whether n is a subgraph instance to expand: its type
// is a definition the target does not itself know as a class.
func (c *converter) isInstance(n *GraphNode) bool {
	return c.info[n.Type] == nil && c.defs[n.Type] != nil
}

// child returns the scope of instance n of sc.
func (c *converter) child(sc *scope, n *GraphNode) *scope {
	def := c.defs[n.Type]
	base := c.scopes[def.ID]
	if base == nil {
		base = newScope(def.Nodes, def.Links)
		c.scopes[def.ID] = base
	}
	return &scope{prefix: sc.prefix + string(n.ID) + ":", nodes: base.nodes, links: base.links,
		order: base.order, def: def, host: n, parent: sc}
}

// hostInput returns the instance's input that feeds the definition's input
// slot (matched by name, else by position) and its index.
func (sc *scope) hostInput(slot int) (*GraphInput, int) {
	if sc.host == nil || sc.def == nil || slot < 0 {
		return nil, -1
	}
	if slot < len(sc.def.Inputs) {
		name := sc.def.Inputs[slot].Name
		for i := range sc.host.Inputs {
			if sc.host.Inputs[i].Name == name {
				return &sc.host.Inputs[i], i
			}
		}
	}
	if slot < len(sc.host.Inputs) {
		return &sc.host.Inputs[slot], slot
	}
	return nil, -1
}

// hostWidgetValue returns the value the instance holds for its idx-th input
// when that input is a promoted widget: the instance's widgets_values are
// positional over its widget-backed inputs.
func (sc *scope) hostWidgetValue(idx int) (any, bool) {
	if idx < 0 || sc.host.Inputs[idx].Widget == nil {
		return nil, false
	}
	var vals []any
	if decodeJSON(sc.host.WidgetsValues, &vals) != nil {
		return nil, false
	}
	pos := 0
	for i := range idx {
		if sc.host.Inputs[i].Widget != nil {
			pos++
		}
	}
	if pos >= len(vals) {
		return nil, false
	}
	return vals[pos], true
}

// outputLink returns the definition's link that feeds output slot.
func (sc *scope) outputLink(slot int) (int64, bool) {
	for _, l := range sc.def.Links {
		if l.Target == subgraphOutputID && l.TargetSlot == slot {
			return l.ID, true
		}
	}
	return 0, false
}

// emit converts the active nodes of sc into out, expanding subgraph
// instances.
func (c *converter) emit(sc *scope, out Prompt, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("convert workflow: subgraphs nested deeper than %d at %s", maxDepth, sc.prefix)
	}
	for _, n := range sc.order {
		if !c.active(n) {
			continue
		}
		if c.isInstance(n) {
			if err := c.emit(c.child(sc, n), out, depth+1); err != nil {
				return err
			}
			continue
		}
		node, err := c.node(sc, n)
		if err != nil {
			return fmt.Errorf("convert node %s%s (%s): %w", sc.prefix, n.ID, n.Type, err)
		}
		out[sc.prefix+string(n.ID)] = node
	}
	return nil
}

// check collects every class the target lacks, with the subgraphs they are
// used in.
func (c *converter) check() error {
	unknown := map[string][]string{}
	subs := map[string]*SubgraphUse{}
	missing := map[string]map[string]bool{}
	var recursive []string
	var walk func(nodes []*GraphNode, prefix string, within []string, depth int)
	walk = func(nodes []*GraphNode, prefix string, within []string, depth int) {
		for _, n := range nodes {
			if !c.active(n) || c.info[n.Type] != nil {
				continue
			}
			if def := c.defs[n.Type]; def != nil && slices.Contains(within, def.ID) {
				recursive = append(recursive, fmt.Sprintf("subgraph %q (%s) contains itself (node %s%s)", def.Name, def.ID, prefix, n.ID))
				continue
			} else if def != nil && depth < maxDepth {
				u := subs[def.ID]
				if u == nil {
					u = &SubgraphUse{ID: def.ID, Name: def.Name}
					subs[def.ID], missing[def.ID] = u, map[string]bool{}
				}
				u.Nodes = append(u.Nodes, prefix+nodeLabel(n))
				inner := newScope(def.Nodes, nil)
				walk(inner.order, prefix+string(n.ID)+":", append(within[:len(within):len(within)], def.ID), depth+1)
				continue
			}
			unknown[n.Type] = append(unknown[n.Type], prefix+string(n.ID))
			for _, id := range within {
				missing[id][n.Type] = true
			}
		}
	}
	walk(c.root.order, "", nil, 0)
	if len(unknown) == 0 && len(recursive) == 0 {
		return nil
	}
	e := &ConversionError{Recursive: recursive}
	for t, ids := range unknown {
		sort.Slice(ids, func(i, j int) bool { return naturalLess(ids[i], ids[j]) })
		e.UnknownTypes = append(e.UnknownTypes, UnknownType{Type: t, Nodes: ids})
	}
	sort.Slice(e.UnknownTypes, func(i, j int) bool { return e.UnknownTypes[i].Type < e.UnknownTypes[j].Type })
	for id, u := range subs {
		for t := range missing[id] {
			u.Missing = append(u.Missing, t)
		}
		if len(u.Missing) == 0 {
			continue
		}
		sort.Strings(u.Missing)
		e.Subgraphs = append(e.Subgraphs, *u)
	}
	sort.Slice(e.Subgraphs, func(i, j int) bool { return e.Subgraphs[i].ID < e.Subgraphs[j].ID })
	return e
}
