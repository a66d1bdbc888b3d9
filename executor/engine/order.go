package engine

import (
	"container/heap"
	"encoding/json"
)

// executionList yields the nodes of a plan in a deterministic topological
// order, preferring (as ComfyUI's ux_friendly_pick_node) output nodes, then
// nodes feeding an output directly, then nodes two hops from an output, and
// otherwise the earliest node in prompt order.
type executionList struct {
	ready     readyHeap
	waiting   map[string]int      // unfinished dependencies per node
	consumers map[string][]string // node -> nodes waiting on it
	prio      map[string]int
	index     map[string]int
}

type readyNode struct {
	id    string
	prio  int
	index int
}

type readyHeap []readyNode

func (h readyHeap) Len() int { return len(h) }
func (h readyHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio < h[j].prio
	}
	return h[i].index < h[j].index
}
func (h readyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)   { *h = append(*h, x.(readyNode)) }
func (h *readyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// newExecutionList collects what must run for the plan's outputs: each
// output, and (unless cached) its ancestors up to cached nodes, whose values
// come from the cache.
func newExecutionList(p *plan, cached func(id string) bool) *executionList {
	l := &executionList{waiting: map[string]int{}, consumers: map[string][]string{}}
	index := make(map[string]int, len(p.g.Order))
	for i, id := range p.g.Order {
		index[id] = i
	}
	members := map[string]bool{}
	var stack []string
	for _, o := range p.outputs {
		if !members[o] {
			members[o] = true
			stack = append(stack, o)
		}
	}
	deps := map[string][]string{}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cached(id) {
			continue
		}
		seen := map[string]bool{}
		for _, d := range depsOf(p.nodes[id]) {
			if seen[d] || cached(d) {
				continue
			}
			seen[d] = true
			deps[id] = append(deps[id], d)
			l.consumers[d] = append(l.consumers[d], id)
			if !members[d] {
				members[d] = true
				stack = append(stack, d)
			}
		}
	}
	// Distance to the nearest output node along consumer edges, capped at 3.
	dist := map[string]int{}
	var frontier []string
	for _, id := range p.g.Order {
		if members[id] && p.nodes[id].spec.OutputNode {
			dist[id] = 0
			frontier = append(frontier, id)
		}
	}
	for d := 1; d < 3 && len(frontier) > 0; d++ {
		var nextF []string
		for _, id := range frontier {
			for _, dep := range deps[id] {
				if _, ok := dist[dep]; !ok {
					dist[dep] = d
					nextF = append(nextF, dep)
				}
			}
		}
		frontier = nextF
	}
	for _, id := range p.g.Order {
		if !members[id] {
			continue
		}
		prio, ok := dist[id]
		if !ok {
			prio = 3
		}
		l.waiting[id] = len(deps[id])
		if len(deps[id]) == 0 {
			heap.Push(&l.ready, readyNode{id: id, prio: prio, index: index[id]})
		}
		dist[id] = prio
	}
	l.prio = dist
	l.index = index
	return l
}

func (l *executionList) pop() (string, bool) {
	if len(l.ready) == 0 {
		return "", false
	}
	n := heap.Pop(&l.ready).(readyNode)
	return n.id, true
}

// done marks id finished, releasing its consumers.
func (l *executionList) done(id string) {
	for _, c := range l.consumers[id] {
		l.waiting[c]--
		if l.waiting[c] == 0 {
			heap.Push(&l.ready, readyNode{id: c, prio: l.prio[c], index: l.index[c]})
		}
	}
}

// progressTracker keeps the per-node progress_state of one prompt.
type progressTracker struct {
	ids    []string // every node seen, in order
	active []string // nodes not finished, in order
	st     map[string]*pstate
}

type pstate struct {
	value, max int
	state      string
}

// fullStateLimit bounds the progress_state node map: past it only the nodes
// not yet finished and the changed node are sent (a 100k-node prompt would
// otherwise send quadratic data).
const fullStateLimit = 256

func (t *progressTracker) update(id string, value, max int, state string) {
	ps, ok := t.st[id]
	if !ok {
		ps = &pstate{}
		t.st[id] = ps
		t.ids = append(t.ids, id)
		t.active = append(t.active, id)
	}
	ps.value, ps.max, ps.state = value, max, state
	if state == "finished" {
		for i, a := range t.active {
			if a == id {
				t.active = append(t.active[:i], t.active[i+1:]...)
				break
			}
		}
	}
}

func (e *execution) sendProgressState(id string, value, max int, state string) {
	t := e.progress
	t.update(id, value, max, state)
	if !e.en.sink.Listening() {
		return
	}
	ids := t.ids
	if len(ids) > fullStateLimit {
		ids = t.active
		if t.st[id].state == "finished" {
			ids = append(append([]string(nil), ids...), id)
		}
	}
	nodes := make(ordered, 0, len(ids))
	for _, nid := range ids {
		p := t.st[nid]
		nodes = append(nodes, field{nid, ordered{
			{"value", p.value}, {"max", p.max}, {"state", p.state}, {"node_id", nid},
			{"prompt_id", e.it.id}, {"display_node_id", nid}, {"parent_node_id", nil}, {"real_node_id", nid},
		}})
	}
	e.en.sink.Event(Event{Type: "progress_state", ClientID: e.it.clientID, To: ToClientOrAll,
		Data: ordered{{"prompt_id", e.it.id}, {"nodes", nodes}}})
}

var _ json.Marshaler = ordered(nil)
