package engine

import (
	"encoding/json"
	"time"
)

// Sink receives everything the engine reports while it works: ComfyUI's
// websocket events, node previews, progress steps, node timings and
// finished prompts. The server implements it (websocket hub, history,
// metrics); tests record it. Prompt reports come from the engine's worker
// goroutine, status events from whichever goroutine changed the queue, so
// an implementation must be safe for concurrent use, and it must not
// block: the worker waits for it.
type Sink interface {
	// Listening reports whether anybody receives events. The engine skips
	// building the costly ones (status, progress, progress_state) when
	// nobody does.
	Listening() bool
	// Event is one of ComfyUI's websocket events.
	Event(Event)
	// Preview is binary data a node sent (a sampler's preview image).
	Preview(Preview)
	// Progress is one step a node reported (env.Progress), whether or not
	// anybody listens.
	Progress(Progress)
	// NodeDone is one node the engine ran (nodes served from the cache are
	// not reported).
	NodeDone(NodeDone)
	// PromptDone is a finished prompt with its history entry. It comes
	// before the status event and the final "executing" event (node null)
	// of the prompt, so a client that waits for those finds the entry.
	PromptDone(PromptDone)
}

// Audience says who receives an Event.
type Audience int

const (
	// ToClient is the prompt's client only: nobody when the prompt has no
	// client id.
	ToClient Audience = iota
	// ToClientOrAll is the prompt's client, or every client when the
	// prompt has none (ComfyUI's send_sync with sid None).
	ToClientOrAll
	// ToAll is every client (status).
	ToAll
)

// Event is one websocket event: {"type": Type, "data": Data}.
type Event struct {
	// Type is ComfyUI's message type: status, execution_start,
	// execution_cached, executing, progress, progress_state, executed,
	// execution_success, execution_error or execution_interrupted.
	Type string
	// ClientID is the client id of the prompt ("" when it has none, and
	// for status).
	ClientID string
	To       Audience
	// Data is the message's data object, keys in ComfyUI's order.
	Data json.Marshaler
}

// Preview is binary data a node sent: Type (node.BinaryPreviewImage, ...)
// and its payload.
type Preview struct {
	ClientID string
	PromptID string
	NodeID   string
	Type     uint32
	Payload  []byte
}

// Progress is one step a node reported: Value of Max.
type Progress struct {
	PromptID string
	NodeID   string
	Value    int
	Max      int
}

// NodeDone is one executed node: how long it took over all its list items,
// and its error.
type NodeDone struct {
	PromptID string
	NodeID   string
	Class    string
	Duration time.Duration
	Err      error
}

// Outcomes of a prompt.
const (
	OutcomeSuccess     = "success"
	OutcomeError       = "error"
	OutcomeInterrupted = "interrupted"
)

// PromptDone is a finished prompt.
type PromptDone struct {
	PromptID string
	// Outcome is OutcomeSuccess, OutcomeError or OutcomeInterrupted.
	Outcome string
	// Executed is how many nodes ran or were served from the cache.
	Executed int
	Duration time.Duration
	// Entry is the prompt's /history entry: {"prompt": [...], "outputs":
	// {...}, "status": {...}, "meta": {...}}.
	Entry json.RawMessage
}

// discard is the Sink of an engine without one.
type discard struct{}

func (discard) Listening() bool       { return false }
func (discard) Event(Event)           {}
func (discard) Preview(Preview)       {}
func (discard) Progress(Progress)     {}
func (discard) NodeDone(NodeDone)     {}
func (discard) PromptDone(PromptDone) {}
