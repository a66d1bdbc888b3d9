package workflow

import (
	"fmt"
	"strings"
)

// Problem is one reason a prompt would be rejected.
type Problem struct {
	Node, ClassType, Input string
	Reason                 string
}

func (p Problem) String() string {
	switch {
	case p.Node == "":
		return p.Reason
	case p.Input == "":
		return fmt.Sprintf("node %s (%s): %s", p.Node, p.ClassType, p.Reason)
	default:
		return fmt.Sprintf("node %s (%s) input %s: %s", p.Node, p.ClassType, p.Input, p.Reason)
	}
}

// ValidationError lists every problem Validate found.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "\n  - " + p.String()
	}
	return fmt.Sprintf("invalid prompt (%d problems):%s", len(e.Problems), strings.Join(lines, ""))
}

// Validate checks p against info before submission, the way a server would
// reject it: unknown node types, missing required inputs, links to missing
// nodes or output slots, and no output node at all. It returns a
// *ValidationError listing every problem, or nil.
func Validate(p Prompt, info ObjectInfo) error {
	var probs []Problem
	outputs, unknown := 0, 0
	for _, id := range p.IDs() {
		n := p[id]
		ni := info[n.ClassType]
		if ni == nil {
			unknown++
			probs = append(probs, Problem{Node: id, ClassType: n.ClassType,
				Reason: fmt.Sprintf("node type %q is not in the target's /object_info", n.ClassType)})
		} else {
			if ni.OutputNode {
				outputs++
			}
			for _, in := range ni.OrderedInputs() {
				if _, ok := n.Inputs[in.Name]; in.Required && !ok {
					probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: in.Name,
						Reason: "required input missing"})
				}
			}
		}
		for _, name := range sortedKeys(n.Inputs) {
			src, slot, ok := AsLink(n.Inputs[name])
			if !ok {
				continue
			}
			sn := p[src]
			if sn == nil {
				probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: name,
					Reason: fmt.Sprintf("linked to node %s, which is not in the prompt", src)})
				continue
			}
			if si := info[sn.ClassType]; si != nil && (slot < 0 || slot >= len(si.Output)) {
				probs = append(probs, Problem{Node: id, ClassType: n.ClassType, Input: name,
					Reason: fmt.Sprintf("linked to output %d of node %s (%s), which has %d outputs", slot, src, sn.ClassType, len(si.Output))})
			}
		}
	}
	if outputs == 0 && unknown == 0 && len(p) > 0 {
		probs = append(probs, Problem{Reason: "no output node (such as SaveImage): the server would reject the prompt"})
	}
	if len(p) == 0 {
		probs = append(probs, Problem{Reason: "the prompt has no nodes"})
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}
