package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"runtime/debug"
	"sort"

	"github.com/regen-dev/regen/executor/internal/pyjson"
	"github.com/regen-dev/regen/executor/node"
)

// cacheEntry is what a node produced: one list per output slot, and its UI.
type cacheEntry struct {
	outputs [][]any
	ui      map[string][]any
}

// outputCache holds node outputs between prompts, keyed by input signature.
// Only the worker goroutine touches it.
type outputCache struct {
	m map[string]*cacheEntry
}

func newOutputCache() *outputCache { return &outputCache{m: map[string]*cacheEntry{}} }

func (c *outputCache) get(sig string) (*cacheEntry, bool) {
	e, ok := c.m[sig]
	return e, ok
}

func (c *outputCache) put(sig string, e *cacheEntry) { c.m[sig] = e }

// retain drops every entry whose key the current prompt does not use
// (ComfyUI's set_prompt + clean_unused: only the latest prompt's results
// survive).
func (c *outputCache) retain(keep map[string]bool) {
	for k := range c.m {
		if !keep[k] {
			delete(c.m, k)
		}
	}
}

func (c *outputCache) reset() { c.m = map[string]*cacheEntry{} }

// isChangedFunc evaluates a node's IS_CHANGED: the key, or always=true for
// "never equal" (also used when it fails, as ComfyUI uses NaN then).
type isChangedFunc func(vn *vnode) (key string, always bool)

// signatures computes the input signature of every node of the plan.
//
// ComfyUI's signature of a node is its own entry [class, IS_CHANGED,
// (node id if NOT_IDEMPOTENT or UNIQUE_ID), inputs in sorted name order with
// constants or (ancestor index, socket)] followed by the entries of all its
// ancestors. We hash the same information Merkle-style instead: a node's
// signature is SHA-256 over its own entry with each link replaced by the
// ancestor's signature and the socket. Equal subgraphs therefore get equal
// keys whatever the node ids, a change to any upstream constant changes every
// downstream key, and the cost is linear in the graph rather than quadratic
// on long chains. Nodes with always=true get a per-prompt nonce, so they
// never match.
func signatures(p *plan, isChanged isChangedFunc, nonce string) (map[string]string, error) {
	sigs := make(map[string]string, len(p.nodes))
	lookup := func(id string) *vnode { return p.nodes[id] }
	sign := func(vn *vnode) string { return nodeSignature(vn, sigs, isChanged, nonce) }
	for _, root := range p.outputs {
		if _, done := sigs[root]; done {
			continue
		}
		if blocked, _ := signWalk(root, lookup, sigs, nil, sign); blocked != "" {
			if p.nodes[blocked] == nil {
				return nil, fmt.Errorf("compute signatures: link to node %s, which is not in the plan", blocked)
			}
			return nil, fmt.Errorf("compute signatures: dependency cycle through node %s", blocked)
		}
	}
	return sigs, nil
}

// outsideSignatures adds to sigs the signatures of the plan's outside
// nodes (see plan.outside) in prompt order. A node that links to a node
// with no signature (one whose inputs are invalid, or a missing one), or
// that sits on a cycle, gets none: ComfyUI's key for it could never match
// a result, as such a node never ran.
func outsideSignatures(p *plan, sigs map[string]string, isChanged isChangedFunc, nonce string) {
	lookup := func(id string) *vnode {
		if vn, ok := p.nodes[id]; ok {
			return vn
		}
		return p.outside[id]
	}
	sign := func(vn *vnode) string { return nodeSignature(vn, sigs, isChanged, nonce) }
	bad := map[string]bool{}
	for _, root := range p.g.Order {
		if _, ok := p.outside[root]; !ok {
			continue
		}
		if _, done := sigs[root]; done || bad[root] {
			continue
		}
		if blocked, path := signWalk(root, lookup, sigs, bad, sign); blocked != "" {
			// Unsignable: so is every node on the path to it.
			for _, id := range path {
				bad[id] = true
			}
		}
	}
}

// signWalk signs root after every node it depends on that has no
// signature in sigs yet: a post-order walk with an explicit stack, so a
// long chain costs no recursion. lookup gives a node by id (nil: there is
// none). When the walk meets a dependency it cannot sign (no node, marked
// in bad, or already on the stack: a cycle) it stops there and returns
// that id and the ids on the stack, root first; the nodes signed before
// keep their signatures. root must exist.
func signWalk(root string, lookup func(string) *vnode, sigs map[string]string, bad map[string]bool,
	sign func(*vnode) string) (blocked string, path []string) {
	type frame struct {
		id   string
		vn   *vnode
		next int
		deps []string
	}
	rv := lookup(root)
	stack := []frame{{id: root, vn: rv, deps: depsOf(rv)}}
	onStack := map[string]bool{root: true}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(f.deps) {
			d := f.deps[f.next]
			f.next++
			if _, done := sigs[d]; done {
				continue
			}
			vn := lookup(d)
			if vn == nil || bad[d] || onStack[d] {
				path = make([]string, len(stack))
				for i, fr := range stack {
					path[i] = fr.id
				}
				return d, path
			}
			onStack[d] = true
			stack = append(stack, frame{id: d, vn: vn, deps: depsOf(vn)})
			continue
		}
		sigs[f.id] = sign(f.vn)
		delete(onStack, f.id)
		stack = stack[:len(stack)-1]
	}
	return "", nil
}

func depsOf(vn *vnode) []string {
	var deps []string
	for _, name := range vn.inputs {
		if l, ok := vn.links[name]; ok {
			deps = append(deps, l.From)
		}
	}
	return deps
}

func nodeSignature(vn *vnode, sigs map[string]string, isChanged isChangedFunc, nonce string) string {
	h := sha256.New()
	writeStr(h, "class")
	writeStr(h, vn.class)
	key, always := isChanged(vn)
	writeStr(h, "is_changed")
	if always {
		writeStr(h, "always:"+nonce+":"+vn.id)
	} else {
		writeStr(h, key)
	}
	if usesNodeID(vn.spec) {
		writeStr(h, "node_id")
		writeStr(h, vn.id)
	}
	names := append([]string(nil), vn.inputs...)
	sort.Strings(names)
	for _, name := range names {
		writeStr(h, "input")
		writeStr(h, name)
		if l, ok := vn.links[name]; ok {
			writeStr(h, "ancestor")
			writeStr(h, sigs[l.From])
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(l.Slot))
			h.Write(b[:])
			continue
		}
		c := vn.consts[name]
		writeStr(h, fmt.Sprintf("%T", c))
		enc, err := pyjson.Marshal(c)
		if err != nil {
			enc = []byte(fmt.Sprintf("%#v", c))
		}
		writeStr(h, string(enc))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// usesNodeID reports whether the node id is part of the signature.
func usesNodeID(s node.Spec) bool {
	if s.NotIdempotent {
		return true
	}
	for _, h := range s.Hidden {
		if h.Kind == node.HiddenUniqueID {
			return true
		}
	}
	return false
}

// writeStr writes a length-prefixed string, so that concatenations cannot
// collide.
func writeStr(h hash.Hash, s string) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(len(s)))
	h.Write(b[:])
	h.Write([]byte(s))
}

// callIsChanged calls a node's IsChanged with its constants; an error or a
// panic means "always changed", as ComfyUI treats an exception as NaN.
func callIsChanged(ic node.IsChanger, env *node.Env, consts map[string]any) (key string, always bool) {
	defer func() {
		if p := recover(); p != nil {
			env.Log().Warn("IsChanged panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			key, always = "", true
		}
	}()
	c := make(map[string]any, len(consts))
	for k, v := range consts {
		c[k] = v
	}
	k, a, err := ic.IsChanged(env, c)
	if err != nil {
		env.Log().Warn("IsChanged failed; the node will run", "err", err)
		return "", true
	}
	return k, a
}
