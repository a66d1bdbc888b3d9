package engine

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/regen-dev/regen/executor/node"
)

// link is a resolved [node_id, slot] input.
type link struct {
	From string
	Slot int
}

// vnode is a validated node: its class and its inputs, constants coerced.
type vnode struct {
	id     string
	index  int // position in the prompt
	class  string
	impl   node.Node
	spec   node.Spec
	consts map[string]any
	links  map[string]link
	inputs []string // present input names, in spec order
}

// plan is a validated prompt: the nodes that passed validation and the
// outputs to execute.
type plan struct {
	g       *graph
	nodes   map[string]*vnode
	outputs []string
	// outside are the prompt's nodes that the plan does not execute but
	// whose own inputs validate (a dangling node, a node of an output
	// that failed validation or that partial_execution_targets left
	// out): ComfyUI 0.33.0 computes a cache key for every node of the
	// prompt, so their cached results survive the prompt and
	// execution_cached lists them.
	outside map[string]*vnode
}

// validator checks prompts against a registry.
type validator struct {
	reg    *node.Registry
	limits Limits
	// combos resolves a COMBO input to its options.
	combos func(node.Input) []string
	// env returns the environment handed to InputValidator nodes.
	env func(nodeID string) *node.Env
}

// vresult is the validation result of one node (ComfyUI's validated[id]).
type vresult struct {
	state    uint8 // 1 visiting, 2 done
	valid    bool
	reasons  []Reason
	vn       *vnode
	children []childLink
	next     int // DFS cursor into children
	firstOut int // index into failed outputs when it was finalised
	// cycle is the dependency_cycle reason set on this node when a cycle
	// through it was found; like ComfyUI's validated[id] it is set before
	// the node finishes, and a later visit returns it instead of walking
	// the node again.
	cycle *Reason
	// exc is the exception validating this node's links raised (a link to
	// a node or an output that does not exist): it ends the node's
	// validation, and whoever called validate_inputs on it reports it.
	exc *linkException
	// listed: the node is in the node_errors order already.
	listed bool
}

// childLink is a validated link from a node to a child: the input it
// enters and the link value (ComfyUI reports both on the child when the
// child's validation raises).
type childLink struct {
	id  string
	in  string
	cfg []any
	val []any
}

// linkException is what ComfyUI's validate_inputs raises for a link to a
// node or an output slot that does not exist: prompt[o_id] is a KeyError,
// RETURN_TYPES[slot] an IndexError.
type linkException struct {
	typ, msg string
}

// validate runs ComfyUI's validate_prompt. targets, when non-nil, restricts
// the outputs (partial_execution_targets). It returns the plan, or the
// top-level error; node errors may be non-empty in both cases.
func (v *validator) validate(g *graph, targets []string) (*plan, *ErrorObj, *NodeErrors) {
	ne := &NodeErrors{}
	var want map[string]bool
	if targets != nil {
		want = make(map[string]bool, len(targets))
		for _, t := range targets {
			want[t] = true
		}
	}
	var outputs []string
	for _, id := range g.Order {
		n := g.Nodes[id]
		if !n.HasClass {
			return nil, missingNodeType(id, n, false), ne
		}
		impl, ok := v.reg.Get(n.Class)
		if !ok {
			return nil, missingNodeType(id, n, true), ne
		}
		if impl.Spec().OutputNode && (want == nil || want[id]) {
			outputs = append(outputs, id)
		}
	}
	if len(outputs) == 0 {
		return nil, &ErrorObj{Type: "prompt_no_outputs", Message: "Prompt has no outputs", Details: ""}, ne
	}

	results := map[string]*vresult{}
	var finalised []string // failed nodes with reasons, in finalisation order
	var failedOutputs []string
	var good []string
	var errLines []string
	for _, o := range outputs {
		v.walk(g, o, results, &finalised, len(failedOutputs))
		r := results[o]
		if r.valid {
			good = append(good, o)
			continue
		}
		failedOutputs = append(failedOutputs, o)
		for _, reason := range r.reasons {
			errLines = append(errLines, reason.Message+": "+reason.Details)
		}
	}
	for _, id := range finalised {
		r := results[id]
		ne.add(id, &NodeError{
			Errors:           r.reasons,
			DependentOutputs: append([]string{}, failedOutputs[r.firstOut:]...),
			ClassType:        g.Nodes[id].Class,
		})
	}
	if len(good) == 0 {
		return nil, &ErrorObj{
			Type:    "prompt_outputs_failed_validation",
			Message: "Prompt outputs failed validation",
			Details: strings.Join(errLines, "\n"),
		}, ne
	}
	p := &plan{g: g, nodes: map[string]*vnode{}, outputs: good}
	// Keep the nodes reachable from the good outputs (all valid).
	stack := append([]string{}, good...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, seen := p.nodes[id]; seen {
			continue
		}
		vn := results[id].vn
		p.nodes[id] = vn
		for _, name := range vn.inputs {
			if l, ok := vn.links[name]; ok {
				stack = append(stack, l.From)
			}
		}
	}
	p.outside = v.outside(g, p, results)
	return p, nil, ne
}

// outside returns the nodes of g that p does not execute and whose own
// inputs are valid: those validation walked without a reason, and those it
// never reached checked now (their reasons are not reported: ComfyUI does
// not validate them either).
func (v *validator) outside(g *graph, p *plan, results map[string]*vresult) map[string]*vnode {
	out := map[string]*vnode{}
	for _, id := range g.Order {
		if _, in := p.nodes[id]; in {
			continue
		}
		r, walked := results[id]
		if !walked {
			r = v.local(g, id)
		}
		if r.exc == nil && r.cycle == nil && len(r.reasons) == 0 {
			out[id] = r.vn
		}
	}
	return out
}

// walk validates the graph under root depth-first without recursion,
// finalising each node after its children (post-order), as ComfyUI's
// recursive validate_inputs does. The stack is ComfyUI's visiting list: a
// link back to a node on it is a cycle, reported (ComfyUI 0.33.0) on every
// node of the cycle with the path in details.
func (v *validator) walk(g *graph, root string, results map[string]*vresult, finalised *[]string, failedSoFar int) {
	if _, ok := results[root]; ok {
		return
	}
	stack := []string{root}
	results[root] = v.enter(g, root, nil)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		r := results[id]
		if r.next < len(r.children) {
			c := r.children[r.next]
			r.next++
			cr, seen := results[c.id]
			switch {
			case !seen:
				results[c.id] = v.enter(g, c.id, &c)
				stack = append(stack, c.id)
			case cr.state == 1 && cr.cycle == nil:
				for _, id := range v.cycle(g, stack, c.id, results) {
					// ComfyUI's validated[] gets the cycle's nodes now, so
					// node_errors lists them in this order.
					if cr := results[id]; !cr.listed {
						cr.listed, cr.firstOut = true, failedSoFar
						*finalised = append(*finalised, id)
					}
				}
			}
			continue
		}
		stack = stack[:len(stack)-1]
		if r.cycle != nil {
			r.reasons = append([]Reason{*r.cycle}, r.reasons...)
		}
		valid := len(r.reasons) == 0
		for _, c := range r.children {
			if cr := results[c.id]; cr.state != 2 || !cr.valid {
				valid = false
			}
		}
		r.valid = valid
		r.state = 2
		r.children = nil
		if len(r.reasons) > 0 && !r.listed {
			r.listed, r.firstOut = true, failedSoFar
			*finalised = append(*finalised, id)
		}
	}
}

// cycle marks every node of the cycle that closes at c: the path from c's
// place on the stack back to c (ComfyUI 0.33.0 execution.py
// validate_inputs: details "a (A) -> b (B) -> a (A)", extra_info node_id and
// cycle_nodes). Like ComfyUI it replaces a cycle reason set before.
func (v *validator) cycle(g *graph, stack []string, c string, results map[string]*vresult) []string {
	at := 0
	for i, id := range stack {
		if id == c {
			at = i
			break
		}
	}
	nodes := append([]string{}, stack[at:]...)
	parts := make([]string, 0, len(nodes)+1)
	for _, id := range append(nodes, c) {
		parts = append(parts, fmt.Sprintf("%s (%s)", id, g.Nodes[id].Class))
	}
	details := strings.Join(parts, " -> ")
	for _, id := range nodes {
		results[id].cycle = &Reason{Type: "dependency_cycle", Message: "Dependency cycle detected", Details: details,
			ExtraInfo: ordered{{"node_id", id}, {"cycle_nodes", nodes}}}
	}
	return nodes
}

// enter validates one node reached through from (nil for an output
// validated from the top). A link of the node that raised in ComfyUI ends
// its validation with one reason, as ComfyUI 0.33.0 reports it: an output's
// own exception is exception_during_validation (validate_prompt catches
// it); an inner node's is exception_during_inner_validation, named by the
// input and link of the node that reached it (its caller catches it).
func (v *validator) enter(g *graph, id string, from *childLink) *vresult {
	r := v.local(g, id)
	if r.exc == nil {
		return r
	}
	r.children = nil
	if from == nil {
		r.reasons = []Reason{{Type: "exception_during_validation", Message: "Exception when validating node", Details: r.exc.msg,
			ExtraInfo: ordered{{"exception_type", r.exc.typ}, {"traceback", []string{}}}}}
		return r
	}
	r.reasons = []Reason{{Type: "exception_during_inner_validation", Message: "Exception when validating inner node", Details: r.exc.msg,
		ExtraInfo: ordered{{"input_name", from.in}, {"input_config", from.cfg}, {"exception_message", r.exc.msg},
			{"exception_type", r.exc.typ}, {"traceback", []string{}}, {"linked_node", from.val}}}}
	return r
}

// local validates one node's own inputs and returns its linked children.
func (v *validator) local(g *graph, id string) *vresult {
	n := g.Nodes[id]
	impl, _ := v.reg.Get(n.Class)
	spec := impl.Spec()
	vn := &vnode{id: id, class: n.Class, impl: impl, spec: spec, consts: map[string]any{}, links: map[string]link{}}
	r := &vresult{state: 1, vn: vn}
	if !hasKey(n.Keys, "inputs") {
		// ComfyUI 0.33.0 reads prompt[id]['inputs'] first: KeyError.
		r.exc = &linkException{typ: "KeyError", msg: "'inputs'"}
		return r
	}
	iv, hasValidator := impl.(node.InputValidator)
	skipChecks := map[string]bool{}
	skipTypes := false
	if hasValidator {
		for _, name := range iv.ValidatedInputs() {
			skipChecks[name] = true
		}
		skipTypes = iv.SkipsTypeCheck()
	}
	add := func(rs Reason) { r.reasons = append(r.reasons, rs) }
	for _, in := range spec.Inputs {
		val, present := n.Inputs[in.Name]
		if !present {
			if !in.Optional {
				add(Reason{Type: "required_input_missing", Message: "Required input is missing", Details: in.Name,
					ExtraInfo: ordered{{"input_name", in.Name}}})
			}
			continue
		}
		var combo []string
		if in.IsCombo() {
			combo = v.combos(in)
		}
		if list, ok := val.([]any); ok {
			v.checkLink(g, vn, r, in, combo, list, skipTypes)
			continue
		}
		if m, ok := val.(map[string]any); ok {
			if inner, ok := m["__value__"]; ok {
				val = inner
			}
		}
		cv, err := coerce(in, val)
		if err != nil {
			add(Reason{Type: "invalid_input_type",
				Message: fmt.Sprintf("Failed to convert an input value to a %s value", typeLabel(in, combo, spec.V3)),
				Details: fmt.Sprintf("%s, %s, %s", in.Name, pyStr(val), err),
				ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", errorInputConfig(in, combo, spec.V3)},
					{"received_value", val}, {"exception_message", err.Error()}}})
			continue
		}
		if !skipChecks[in.Name] {
			if rs, bad := checkRange(in, combo, cv, spec.V3); bad {
				add(rs)
				continue
			}
		}
		vn.consts[in.Name] = cv
		vn.inputs = append(vn.inputs, in.Name)
	}
	if len(r.reasons) == 0 {
		r.reasons = append(r.reasons, v.limits.check(spec, vn.consts)...)
	}
	if len(r.reasons) == 0 && hasValidator {
		stack, err := v.custom(iv, id, vn)
		switch {
		case stack != nil:
			add(Reason{Type: "exception_during_validation", Message: "Exception when validating node", Details: err.Error(),
				ExtraInfo: ordered{{"exception_type", "Panic"}, {"traceback", stack}}})
		case err != nil:
			// ComfyUI reports one reason per input handed to
			// VALIDATE_INPUTS: details "input - message", extra_info
			// {input_name}.
			names := customInputs(iv, vn)
			for _, name := range names {
				add(Reason{Type: "custom_validation_failed", Message: "Custom validation failed for node",
					Details: name + " - " + err.Error(), ExtraInfo: ordered{{"input_name", name}}})
			}
			if len(names) == 0 {
				add(Reason{Type: "custom_validation_failed", Message: "Custom validation failed for node",
					Details: n.Class + ": " + err.Error()})
			}
		}
	}
	return r
}

// customInputs are the validated inputs a node was given as constants,
// in ValidatedInputs order: the inputs ComfyUI hands VALIDATE_INPUTS.
func customInputs(iv node.InputValidator, vn *vnode) []string {
	var out []string
	for _, name := range iv.ValidatedInputs() {
		if _, ok := vn.consts[name]; ok {
			out = append(out, name)
		}
	}
	return out
}

// custom calls a node's ValidateInputs; a panic comes back as an error with
// its stack.
func (v *validator) custom(iv node.InputValidator, id string, vn *vnode) (stack []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			stack = strings.Split(strings.TrimSpace(string(debug.Stack())), "\n")
		}
	}()
	consts := make(map[string]any, len(vn.consts))
	for k, c := range vn.consts {
		consts[k] = c
	}
	return nil, iv.ValidateInputs(v.env(id), consts)
}

func (v *validator) checkLink(g *graph, vn *vnode, r *vresult, in node.Input, combo []string, list []any, skipTypes bool) {
	cfg := errorInputConfig(in, combo, vn.spec.V3)
	bad := func() {
		r.reasons = append(r.reasons, Reason{Type: "bad_linked_input",
			Message: "Bad linked input, must be a length-2 list of [node_id, slot_index]", Details: in.Name,
			ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", cfg}, {"received_value", plainValue(list)}}})
	}
	if len(list) != 2 {
		bad()
		return
	}
	// The first raising link ends the node's validation, as ComfyUI
	// 0.33.0's validate_inputs raises on prompt[o_id] (KeyError: str() of
	// KeyError('77') is "'77'") and on RETURN_TYPES[slot] (a tuple:
	// IndexError, or TypeError for a slot that is not an integer).
	raise := func(typ, msg string) {
		if r.exc == nil {
			r.exc = &linkException{typ: typ, msg: msg}
		}
	}
	var from string
	switch id := list[0].(type) {
	case string:
		from = id
	case json.Number, bool, nil:
		raise("KeyError", pyStr(id)) // prompt[1]: no node id is a number
		return
	default:
		bad()
		return
	}
	src, ok := g.Nodes[from]
	if !ok {
		raise("KeyError", pyQuote(from))
		return
	}
	slot, typeErr := linkSlot(list[1])
	switch {
	case typeErr != "":
		raise("TypeError", "tuple indices must be integers or slices, not "+typeErr)
		return
	case slot < 0:
		bad() // Python would index from the end; no client sends it
		return
	}
	impl, _ := v.reg.Get(src.Class) // every class was checked to exist
	outs := impl.Spec().Outputs
	if slot >= len(outs) {
		raise("IndexError", "tuple index out of range")
		return
	}
	received := outs[slot].Type
	if !skipTypes && !typeMatches(received, in) {
		r.reasons = append(r.reasons, Reason{Type: "return_type_mismatch",
			Message: "Return type mismatch between linked nodes",
			Details: fmt.Sprintf("%s, received_type(%s) mismatch input_type(%s)", in.Name, received, typeLabel(in, combo, vn.spec.V3)),
			ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", cfg}, {"received_type", received},
				{"linked_node", []any{from, slot}}}})
		return
	}
	vn.links[in.Name] = link{From: from, Slot: slot}
	vn.inputs = append(vn.inputs, in.Name)
	for _, c := range r.children {
		if c.id == from {
			return
		}
	}
	r.children = append(r.children, childLink{id: from, in: in.Name, cfg: cfg, val: []any{from, slot}})
}

// linkSlot is the slot of a link as Python indexes a tuple with it: an
// integer (a bool is one), or the Python type name of anything else, which
// raises TypeError.
func linkSlot(v any) (slot int, typeErr string) {
	switch x := v.(type) {
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return 0, "float"
		}
		n, err := strconv.ParseInt(x.String(), 10, 64)
		if err != nil || n > 1<<30 {
			return 1 << 30, "" // out of range
		}
		return int(n), ""
	case bool:
		if x {
			return 1, ""
		}
		return 0, ""
	case string:
		return 0, "str"
	case nil:
		return 0, "NoneType"
	case []any:
		return 0, "list"
	case map[string]any:
		return 0, "dict"
	}
	return 0, fmt.Sprintf("%T", v)
}

// typeLabel is how ComfyUI prints an input type in messages.
func typeLabel(in node.Input, combo []string, v3 bool) string {
	if in.IsCombo() && v3 {
		return "COMBO"
	}
	if in.IsCombo() {
		return pyStr(combo)
	}
	return in.Type
}

// checkRange applies min/max and the COMBO list.
func checkRange(in node.Input, combo []string, cv any, v3 bool) (Reason, bool) {
	cfg := func() []any { return errorInputConfig(in, combo, v3) }
	if in.Min != nil && compareBound(cv, *in.Min) < 0 {
		return Reason{Type: "value_smaller_than_min",
			Message:   fmt.Sprintf("Value %s smaller than min of %s", pyStr(cv), pyStr(number(in, "min", *in.Min))),
			Details:   in.Name,
			ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", cfg()}, {"received_value", cv}}}, true
	}
	if in.Max != nil && compareBound(cv, *in.Max) > 0 {
		return Reason{Type: "value_bigger_than_max",
			Message:   fmt.Sprintf("Value %s bigger than max of %s", pyStr(cv), pyStr(number(in, "max", *in.Max))),
			Details:   in.Name,
			ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", cfg()}, {"received_value", cv}}}, true
	}
	if in.IsCombo() {
		s, isStr := cv.(string)
		found := false
		if isStr {
			for _, c := range combo {
				if c == s {
					found = true
					break
				}
			}
		}
		if !found {
			var config any = cfg()
			listInfo := pyStr(combo)
			if len(combo) > 20 {
				listInfo = fmt.Sprintf("(list of length %d)", len(combo))
				config = nil
			}
			return Reason{Type: "value_not_in_list", Message: "Value not in list",
				Details:   fmt.Sprintf("%s: '%s' not in %s", in.Name, pyStr(cv), listInfo),
				ExtraInfo: ordered{{"input_name", in.Name}, {"input_config", config}, {"received_value", cv}}}, true
		}
	}
	return Reason{}, false
}

// missingNodeType is ComfyUI 0.33.0's answer to a node without class_type
// or with a class the server lacks (v0.3.64 answered invalid_prompt): the
// node is named by its _meta.title, else its class (or its id when it has
// no class), and extra_info carries node_id, class_type and node_title.
func missingNodeType(id string, n *pnode, hasClass bool) *ErrorObj {
	var title any
	var meta struct {
		Title *string `json:"title"`
	}
	if len(n.Meta) > 0 && json.Unmarshal(n.Meta, &meta) == nil && meta.Title != nil {
		title = *meta.Title
	}
	if !hasClass {
		name := "ID #" + id
		if t, ok := title.(string); ok && t != "" {
			name = t
		}
		return &ErrorObj{Type: "missing_node_type",
			Message:   fmt.Sprintf("Node '%s' has no class_type. The workflow may be corrupted or a custom node is missing.", name),
			Details:   fmt.Sprintf("Node ID '#%s'", id),
			ExtraInfo: ordered{{"node_id", id}, {"class_type", nil}, {"node_title", title}}}
	}
	if title == nil {
		title = n.Class
	}
	return &ErrorObj{Type: "missing_node_type",
		Message:   fmt.Sprintf("Node '%s' not found. The custom node may not be installed.", pyStr(title)),
		Details:   fmt.Sprintf("Node ID '#%s'", id),
		ExtraInfo: ordered{{"node_id", id}, {"class_type", n.Class}, {"node_title", title}}}
}
