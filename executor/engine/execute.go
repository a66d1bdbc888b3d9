package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regen-dev/regen/executor/node"
)

// runState is the prompt the worker is executing.
type runState struct {
	id          string
	clientID    string
	cancel      context.CancelFunc
	interrupted atomic.Bool

	mu   sync.Mutex
	node string // last node sent as executing
}

func (rs *runState) setNode(id string) {
	rs.mu.Lock()
	rs.node = id
	rs.mu.Unlock()
}

// execution is the state of one prompt run.
type execution struct {
	en       *Engine
	it       *item
	rs       *runState
	ctx      context.Context
	log      *slog.Logger
	messages []any
	vals     map[string][][]any
	executed []string
	uiIDs    []string
	ui       map[string]map[string][]any
	progress *progressTracker
	// prompt is the prompt handed to nodes (SaveImage's PNG "prompt"):
	// the stored prompt plus each IsChanger node's is_changed, as ComfyUI
	// 0.33.0's IsChangedCache writes it into the prompt it executes. nil
	// until the signatures are computed.
	prompt []byte
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// msg records a status message in history and sends it: to the client only,
// or (broadcast) to everybody when the prompt has no client.
func (e *execution) msg(ev string, data ordered, broadcast bool) {
	e.messages = append(e.messages, []any{ev, data})
	to := ToClient
	if broadcast {
		to = ToClientOrAll
	}
	e.en.sink.Event(Event{Type: ev, ClientID: e.it.clientID, To: to, Data: data})
}

// send sends an event to the prompt's client (ComfyUI's send_sync with the
// prompt's sid).
func (e *execution) send(ev string, data ordered) {
	e.en.sink.Event(Event{Type: ev, ClientID: e.it.clientID, To: ToClient, Data: data})
}

// execute runs one prompt to completion and writes its history entry.
func (en *Engine) execute(it *item) {
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs := &runState{id: it.id, clientID: it.clientID, cancel: cancel}
	en.setRun(rs)
	defer en.setRun(nil)

	e := &execution{
		en: en, it: it, rs: rs, ctx: ctx,
		log:      en.log.With("prompt_id", it.id),
		vals:     map[string][][]any{},
		ui:       map[string]map[string][]any{},
		progress: &progressTracker{st: map[string]*pstate{}},
	}
	outcome := e.run()
	d := time.Since(start)
	e.log.Info("prompt finished", "outcome", outcome, "nodes_executed", len(e.executed),
		"duration", d.Round(time.Microsecond))

	status := ordered{
		{"status_str", map[bool]string{true: "success", false: "error"}[outcome == OutcomeSuccess]},
		{"completed", outcome == OutcomeSuccess},
		{"messages", e.messages},
	}
	outputs := make(ordered, 0, len(e.uiIDs))
	meta := make(ordered, 0, len(e.uiIDs))
	for _, id := range e.uiIDs {
		outputs = append(outputs, field{id, e.ui[id]})
		meta = append(meta, field{id, ordered{{"node_id", id}, {"display_node", id}, {"parent_node", nil}, {"real_node_id", id}}})
	}
	entry, err := json.Marshal(ordered{{"prompt", it.tuple()}, {"outputs", outputs}, {"status", status}, {"meta", meta}})
	if err != nil {
		e.log.Error("encode history entry", "err", err)
		entry = []byte(`{}`)
	}
	en.sink.PromptDone(PromptDone{PromptID: it.id, Outcome: outcome, Executed: len(e.executed), Duration: d, Entry: entry})
	en.queue.done() // sends the status
	if it.clientID != "" {
		e.send("executing", ordered{{"node", nil}, {"prompt_id", it.id}})
	}
}

// run executes the plan and returns the outcome.
func (e *execution) run() string {
	en, p := e.en, e.it.plan
	e.msg("execution_start", ordered{{"prompt_id", e.it.id}, {"timestamp", nowMillis()}}, false)
	nonce := strconv.FormatUint(en.nonce.Add(1), 10)
	changed := map[string]string{}
	isChanged := func(vn *vnode) (string, bool) {
		key, always := e.isChanged(vn)
		if _, ok := vn.impl.(node.IsChanger); ok && !always {
			// A node that always runs (Python's NaN) gets no is_changed:
			// NaN is not JSON.
			changed[vn.id] = key
		}
		return key, always
	}
	sigs, err := signatures(p, isChanged, nonce)
	if err != nil {
		e.fail("", "", err, nil)
		return OutcomeError
	}
	// ComfyUI 0.33.0 keys every node of the prompt, executed or not (its
	// IS_CHANGED runs and its is_changed is written into the prompt too).
	outsideSignatures(p, sigs, isChanged, nonce)
	keep := make(map[string]bool, len(sigs))
	for _, sig := range sigs {
		keep[sig] = true
	}
	en.cache.retain(keep)
	e.prompt = encodeGraph(p.g, p, changed)

	// ComfyUI 0.33.0 (execution.py execute_async): every node of the
	// prompt whose result is cached, in prompt order, executed or not.
	cached := []string{}
	for _, id := range p.g.Order {
		sig, ok := sigs[id]
		if !ok {
			continue
		}
		if _, hit := en.cache.get(sig); hit {
			cached = append(cached, id)
		}
	}
	e.msg("execution_cached", ordered{{"nodes", cached}, {"prompt_id", e.it.id}, {"timestamp", nowMillis()}}, false)
	for _, id := range cached {
		if _, run := p.nodes[id]; !run {
			continue
		}
		entry, _ := en.cache.get(sigs[id])
		e.vals[id] = entry.outputs
	}

	order := newExecutionList(p, func(id string) bool { _, hit := en.cache.get(sigs[id]); return hit })
	for {
		id, ok := order.pop()
		if !ok {
			break
		}
		vn := p.nodes[id]
		if entry, hit := en.cache.get(sigs[id]); hit {
			// An output node served from cache: not re-run, no files
			// written, but its UI is reported again.
			e.vals[id] = entry.outputs
			var out any
			if entry.ui != nil {
				out = entry.ui
				e.recordUI(id, entry.ui)
			}
			// ComfyUI 0.33.0 (execution.py execute, _send_cached_ui):
			// executed with the cached UI, then the node's progress
			// state finished.
			e.send("executed", ordered{{"node", id}, {"display_node", id}, {"output", out}, {"prompt_id", e.it.id}})
			e.sendProgressState(id, 1, 1, "finished")
			e.executed = append(e.executed, id)
			order.done(id)
			continue
		}
		if e.rs.interrupted.Load() {
			e.interrupted(vn)
			return OutcomeInterrupted
		}
		entry, inputs, err := e.runNode(vn)
		if err != nil {
			if e.rs.interrupted.Load() || errors.Is(err, node.ErrInterrupted) {
				e.interrupted(vn)
				return OutcomeInterrupted
			}
			e.fail(id, vn.class, err, inputs)
			return OutcomeError
		}
		en.cache.put(sigs[id], entry)
		e.vals[id] = entry.outputs
		e.executed = append(e.executed, id)
		order.done(id)
	}
	e.msg("execution_success", ordered{{"prompt_id", e.it.id}, {"timestamp", nowMillis()}}, false)
	return OutcomeSuccess
}

func (e *execution) recordUI(id string, ui map[string][]any) {
	if len(ui) == 0 {
		return
	}
	if _, seen := e.ui[id]; !seen {
		e.uiIDs = append(e.uiIDs, id)
	}
	e.ui[id] = ui
}

func (e *execution) env(vn *vnode) *node.Env {
	env := e.en.nodeEnv(e.it, vn.id, vn.class, e.log)
	if e.prompt != nil {
		env.Prompt = e.prompt
	}
	return env
}

func (e *execution) isChanged(vn *vnode) (string, bool) {
	ic, ok := vn.impl.(node.IsChanger)
	if !ok {
		return "", false
	}
	return callIsChanged(ic, e.env(vn), vn.consts)
}

// runNode executes one node over its input lists.
func (e *execution) runNode(vn *vnode) (*cacheEntry, map[string][]any, error) {
	en := e.en
	id := vn.id
	e.rs.setNode(id)
	// ComfyUI 0.33.0 (execution.py execute): start_progress sends the
	// running progress_state before executing; finish_progress sends the
	// finished one after executed.
	e.sendProgressState(id, 0, 1, "running")
	e.send("executing", ordered{{"node", id}, {"display_node", id}, {"prompt_id", e.it.id}})

	inputs := map[string][]any{}
	for _, name := range vn.inputs {
		if l, ok := vn.links[name]; ok {
			outs := e.vals[l.From]
			if l.Slot < len(outs) {
				inputs[name] = outs[l.Slot]
			} else {
				inputs[name] = nil
			}
			continue
		}
		inputs[name] = []any{vn.consts[name]}
	}

	env := e.env(vn)
	env.Progress = func(value, max int) error {
		en.sink.Progress(Progress{PromptID: e.it.id, NodeID: id, Value: value, Max: max})
		if e.rs.interrupted.Load() {
			return fmt.Errorf("progress %d/%d: %w", value, max, node.ErrInterrupted)
		}
		if en.sink.Listening() {
			en.sink.Event(Event{Type: "progress", ClientID: e.it.clientID, To: ToClientOrAll,
				Data: ordered{{"value", value}, {"max", max}, {"prompt_id", e.it.id}, {"node", id}}})
			e.sendProgressState(id, value, max, "running")
		}
		return nil
	}
	start := time.Now()
	entry, err := callOverLists(e.ctx, vn, env, inputs, en.limits)
	d := time.Since(start)
	en.sink.NodeDone(NodeDone{PromptID: e.it.id, NodeID: id, Class: vn.class, Duration: d, Err: err})
	env.Logger.Debug("node executed", "duration", d.Round(time.Microsecond), "err", err)
	if err != nil {
		e.sendProgressState(id, 0, 1, "error")
		return nil, inputs, err
	}
	if len(entry.ui) > 0 {
		e.recordUI(id, entry.ui)
		e.send("executed", ordered{{"node", id}, {"display_node", id}, {"output", entry.ui}, {"prompt_id", e.it.id}})
	}
	e.sendProgressState(id, 1, 1, "finished")
	return entry, inputs, nil
}

// callOverLists maps a node over its input lists (ComfyUI's
// _map_node_over_list): once with whole lists for InputIsList nodes,
// otherwise once per index up to the longest list, repeating the last
// element of shorter lists. Output slots are gathered per slot, OutputIsList
// slots concatenated; UI lists are concatenated per key.
func callOverLists(ctx context.Context, vn *vnode, env *node.Env, inputs map[string][]any, limits Limits) (*cacheEntry, error) {
	spec := vn.spec
	entry := &cacheEntry{outputs: make([][]any, len(spec.Outputs))}
	for i := range entry.outputs {
		entry.outputs[i] = []any{}
	}
	merge := func(res node.Result) error {
		if len(res.Outputs) != len(spec.Outputs) {
			return fmt.Errorf("node %s returned %d outputs, want %d", vn.class, len(res.Outputs), len(spec.Outputs))
		}
		for i, o := range spec.Outputs {
			if o.IsList {
				l, ok := res.Outputs[i].([]any)
				if !ok {
					return fmt.Errorf("node %s output %d is OUTPUT_IS_LIST but returned %T, want []any", vn.class, i, res.Outputs[i])
				}
				entry.outputs[i] = append(entry.outputs[i], l...)
				continue
			}
			entry.outputs[i] = append(entry.outputs[i], res.Outputs[i])
		}
		if len(res.UI) > 0 && entry.ui == nil {
			entry.ui = map[string][]any{}
		}
		for k, v := range res.UI {
			entry.ui[k] = append(entry.ui[k], v...)
		}
		return nil
	}
	if spec.InputIsList {
		in := make(map[string]any, len(inputs))
		for k, v := range inputs {
			in[k] = append([]any(nil), v...)
		}
		res, err := safeExecute(ctx, vn, env, in)
		if err != nil {
			return nil, err
		}
		return entry, merge(res)
	}
	n := 0
	for _, l := range inputs {
		n = max(n, len(l))
	}
	n = max(n, 1)
	for i := 0; i < n; i++ {
		in := make(map[string]any, len(inputs))
		for k, l := range inputs {
			if len(l) == 0 {
				continue
			}
			in[k] = l[min(i, len(l)-1)]
		}
		if err := limits.runtime(vn.spec, in); err != nil {
			return nil, fmt.Errorf("execute %s: %w", vn.class, err)
		}
		res, err := safeExecute(ctx, vn, env, in)
		if err != nil {
			return nil, err
		}
		if err := merge(res); err != nil {
			return nil, err
		}
	}
	return entry, nil
}

// panicError is a node panic, with its stack as traceback.
type panicError struct {
	value any
	stack []string
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// safeExecute checks for interrupt (ctx) and runs the node, turning a panic
// into an error.
func safeExecute(ctx context.Context, vn *vnode, env *node.Env, in map[string]any) (res node.Result, err error) {
	if ctx.Err() != nil {
		return node.Result{}, fmt.Errorf("execute %s: %w", vn.class, node.ErrInterrupted)
	}
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: strings.Split(strings.TrimSpace(string(debug.Stack())), "\n")}
		}
	}()
	return vn.impl.Execute(ctx, env, in)
}

func (e *execution) interrupted(vn *vnode) {
	e.msg("execution_interrupted", ordered{
		{"prompt_id", e.it.id}, {"node_id", vn.id}, {"node_type", vn.class},
		{"executed", nonNil(e.executed)}, {"timestamp", nowMillis()},
	}, true)
}

// ExceptionTyper lets a node error name its exception_type in
// execution_error (default "RuntimeError", "Panic" for a recovered panic).
type ExceptionTyper interface {
	ExceptionType() string
}

func (e *execution) fail(id, class string, err error, inputs map[string][]any) {
	typ := "RuntimeError"
	trace := []string{}
	var pe *panicError
	var et ExceptionTyper
	switch {
	case errors.As(err, &pe):
		typ = "Panic"
		trace = pe.stack
	case errors.As(err, &et):
		typ = et.ExceptionType()
	}
	cur := ordered{}
	if vn, ok := e.it.plan.nodes[id]; ok {
		for _, name := range vn.inputs {
			vals := inputs[name]
			f := make([]any, len(vals))
			for i, v := range vals {
				f[i] = formatValue(v)
			}
			cur = append(cur, field{name, f})
		}
	}
	// current_outputs: ComfyUI 0.33.0 sends the output cache's
	// all_node_ids() taken when the prompt started, which is every node of
	// the prompt (its cache key set), as a Python set; here in prompt
	// order.
	current := append([]string{}, e.it.plan.g.Order...)
	e.log.Error("node failed", "node", id, "class", class, "err", err)
	e.msg("execution_error", ordered{
		{"prompt_id", e.it.id}, {"node_id", id}, {"node_type", class},
		{"executed", nonNil(e.executed)}, {"exception_message", err.Error()},
		{"exception_type", typ}, {"traceback", trace}, {"current_inputs", cur},
		{"current_outputs", current}, {"timestamp", nowMillis()},
	}, false)
}

// formatValue is ComfyUI's format_value: primitives as they are, anything
// else as a short description.
func formatValue(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64, uint64, int, float64:
		return v
	case *node.Image:
		return fmt.Sprintf("IMAGE[%d, %d, %d, %d]", x.N, x.H, x.W, x.C)
	case *node.Tensor:
		return fmt.Sprintf("Tensor%v", x.Shape)
	case *node.Latent:
		if x.Samples != nil {
			return fmt.Sprintf("LATENT%v", x.Samples.Shape)
		}
		return "LATENT"
	default:
		return fmt.Sprintf("%T", v)
	}
}
