package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/node"
)

// Options configure an Engine.
type Options struct {
	// Registry holds the node classes; required.
	Registry *node.Registry
	// Backend is the compute backend handed to nodes; required. The engine
	// does not close it.
	Backend backend.Backend
	// Dirs are the folders nodes read and write, and COMBO inputs list.
	Dirs node.Dirs
	// DisableMetadata tells nodes not to embed the prompt and workflow in
	// saved PNGs.
	DisableMetadata bool
	// Sink receives the engine's events; nil discards them.
	Sink Sink
	// Logger receives the engine's logs; nil → slog.Default().
	Logger *slog.Logger
	// Limits bound the sizes a prompt may ask for; zero fields take the
	// defaults (DefaultMaxPixels, DefaultMaxBatch).
	Limits Limits
}

// Engine validates, queues and executes prompts. One worker (Run) executes
// one prompt at a time; Submit and the other methods are safe for
// concurrent use.
type Engine struct {
	limits  Limits
	log     *slog.Logger
	reg     *node.Registry
	backend backend.Backend
	dirs    node.Dirs
	sink    Sink
	noMeta  bool

	queue *queue
	cache *outputCache // worker goroutine only
	res   *resources
	nonce atomic.Uint64

	runMu sync.Mutex
	run   *runState

	freeMu     sync.Mutex
	freeUnload bool
	freeMemory bool
}

// New checks opts and returns an Engine. It starts nothing: call Run.
func New(opts Options) (*Engine, error) {
	if opts.Registry == nil {
		return nil, errors.New("create engine: no node registry")
	}
	if opts.Backend == nil {
		return nil, errors.New("create engine: no backend")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Sink == nil {
		opts.Sink = discard{}
	}
	en := &Engine{
		limits:  opts.Limits.withDefaults(),
		log:     opts.Logger,
		reg:     opts.Registry,
		backend: opts.Backend,
		dirs:    opts.Dirs,
		sink:    opts.Sink,
		noMeta:  opts.DisableMetadata,
		cache:   newOutputCache(),
		res:     &resources{objs: map[string]*resEntry{}, backend: opts.Backend},
	}
	en.queue = newQueue(en.queueChanged)
	return en, nil
}

// Run executes queued prompts one at a time until ctx is done. A prompt
// that is running when ctx is done runs to its end (Interrupt stops it).
func (en *Engine) Run(ctx context.Context) {
	for {
		en.applyFree()
		it, err := en.queue.next(ctx)
		if err != nil {
			return
		}
		if it == nil {
			continue
		}
		en.execute(it)
	}
}

// Free asks the worker to unload models (unload) or also reset the output
// cache (freeMemory) between prompts, as ComfyUI's POST /free.
func (en *Engine) Free(unload, freeMemory bool) {
	en.freeMu.Lock()
	en.freeUnload = en.freeUnload || unload
	en.freeMemory = en.freeMemory || freeMemory
	en.freeMu.Unlock()
	en.queue.signal()
}

func (en *Engine) applyFree() {
	en.freeMu.Lock()
	unload, mem := en.freeUnload, en.freeMemory
	en.freeUnload, en.freeMemory = false, false
	en.freeMu.Unlock()
	if unload || mem {
		en.res.clear()
		en.log.Info("unloaded models")
	}
	if mem {
		en.cache.reset()
		en.log.Info("reset caches")
	}
	if unload || mem {
		// Hand what was dropped back to the OS now, as ComfyUI's /free
		// empties its caches at once: an idle server would otherwise keep
		// it until the runtime's next forced GC and scavenge, minutes
		// later (TestFreeReturnsMemory measures it).
		debug.FreeOSMemory()
	}
}

func (en *Engine) setRun(rs *runState) {
	en.runMu.Lock()
	en.run = rs
	en.runMu.Unlock()
}

// Interrupt interrupts the running prompt: any when id is empty, else only
// if id is the running prompt. It reports whether it interrupted one.
func (en *Engine) Interrupt(id string) bool {
	en.runMu.Lock()
	rs := en.run
	en.runMu.Unlock()
	if rs == nil || (id != "" && rs.id != id) {
		return false
	}
	rs.interrupted.Store(true)
	rs.cancel()
	return true
}

// Executing returns the running node when client id owns the running
// prompt (so that a client that reconnects learns where it is).
func (en *Engine) Executing(clientID string) (nodeID, promptID string, ok bool) {
	en.runMu.Lock()
	rs := en.run
	en.runMu.Unlock()
	if rs == nil || rs.clientID != clientID {
		return "", "", false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.node == "" {
		return "", "", false
	}
	return rs.node, rs.id, true
}

// Status is ComfyUI's status object: {"exec_info": {"queue_remaining": n}},
// n counting the running prompt.
func (en *Engine) Status() json.Marshaler {
	return ordered{{"exec_info", ordered{{"queue_remaining", en.queue.remaining()}}}}
}

// queueChanged sends the status to every client.
func (en *Engine) queueChanged() {
	if !en.sink.Listening() {
		return
	}
	en.sink.Event(Event{Type: "status", To: ToAll, Data: ordered{{"status", en.Status()}}})
}

// Queue returns the running and the pending prompts as ComfyUI's queue
// tuples [number, prompt_id, prompt, extra_data, outputs_to_execute];
// pending in queue order.
func (en *Engine) Queue() (running, pending []any) { return en.queue.snapshot() }

// RemoveQueued deletes pending prompts: every one when clear, else those
// in ids. A running prompt is not touched (see Interrupt).
func (en *Engine) RemoveQueued(clear bool, ids []string) { en.queue.remove(clear, ids) }

// Pending returns how many prompts wait, not counting the running one.
func (en *Engine) Pending() int { return en.queue.pendingLen() }

// nodeEnv builds the environment of one node of a queued prompt (it nil:
// at submission, for validation).
func (en *Engine) nodeEnv(it *item, nodeID, class string, log *slog.Logger) *node.Env {
	env := &node.Env{
		NodeID:          nodeID,
		Dirs:            en.dirs,
		DisableMetadata: en.noMeta,
		Logger:          log.With("node", nodeID, "class", class),
		Resources:       en.res,
	}
	if it != nil {
		env.PromptID = it.id
		env.Prompt = it.prompt
		env.ExtraPNGInfo = it.pngInfo
		clientID, promptID := it.clientID, it.id
		env.SendBinary = func(eventType uint32, payload []byte) {
			en.sink.Preview(Preview{ClientID: clientID, PromptID: promptID, NodeID: nodeID, Type: eventType, Payload: payload})
		}
	} else {
		env.SendBinary = func(uint32, []byte) {}
	}
	env.Progress = func(int, int) error { return nil }
	return env
}

// resources implements node.Resources.
type resources struct {
	mu      sync.Mutex
	objs    map[string]*resEntry
	backend backend.Backend
}

type resEntry struct {
	once sync.Once
	v    any
	err  error
}

// Load returns the object under key, making it once.
func (r *resources) Load(key string, load func() (any, error)) (any, error) {
	r.mu.Lock()
	e, ok := r.objs[key]
	if !ok {
		e = &resEntry{}
		r.objs[key] = e
	}
	r.mu.Unlock()
	e.once.Do(func() { e.v, e.err = load() })
	if e.err != nil {
		r.mu.Lock()
		if r.objs[key] == e {
			delete(r.objs, key)
		}
		r.mu.Unlock()
		return nil, fmt.Errorf("load %s: %w", key, e.err)
	}
	return e.v, nil
}

// Backend returns the compute backend.
func (r *resources) Backend() any { return r.backend }

// clear drops (and closes, where they are io.Closers) every loaded object.
func (r *resources) clear() {
	r.mu.Lock()
	objs := r.objs
	r.objs = map[string]*resEntry{}
	r.mu.Unlock()
	for _, e := range objs {
		if c, ok := e.v.(io.Closer); ok {
			_ = c.Close()
		}
	}
}
