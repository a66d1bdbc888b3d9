package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// Binary frame event types (ComfyUI protocol.py BinaryEventTypes).
const (
	binPreviewImage         = 1
	binText                 = 3
	binPreviewImageWithMeta = 4
	formatPNG               = 2
)

// frame is one websocket message, or the read error that ended the socket.
type frame struct {
	binary bool
	data   []byte
	at     time.Time
	err    error
}

// readFrames forwards messages until the socket fails or ctx ends.
func readFrames(ctx context.Context, ws *websocket.Conn, out chan<- frame) {
	for {
		typ, data, err := ws.Read(ctx)
		f := frame{binary: typ == websocket.MessageBinary, data: data, at: time.Now(), err: err}
		if err != nil && ctx.Err() != nil {
			return
		}
		select {
		case out <- f:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// runState follows one prompt's events.
type runState struct {
	id       string
	res      *Result
	log      *slog.Logger
	progress func(node string, value, max int)

	started, terminal, finished bool
	current                     string
	currentStart                time.Time
	execErr                     *ExecutionError
	interrupted                 json.RawMessage
	wsOutputs                   map[string]NodeOutput
	entry                       *HistoryEntry
}

// handle processes one message.
func (st *runState) handle(f frame) {
	if f.binary {
		st.binary(f.data)
		return
	}
	var ev struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(f.data, &ev); err != nil {
		st.log.Debug("ignore undecodable websocket message", "err", err)
		return
	}
	var common struct {
		PromptID *string         `json:"prompt_id"`
		Node     json.RawMessage `json:"node"`
	}
	_ = json.Unmarshal(ev.Data, &common)
	if common.PromptID != nil && *common.PromptID != st.id {
		return // another prompt's event
	}
	switch ev.Type {
	case "execution_start":
		st.started = true
	case "execution_cached":
		var d struct {
			Nodes []json.RawMessage `json:"nodes"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		for _, n := range d.Nodes {
			if id, ok := nodeID(n); ok {
				st.res.Cached = append(st.res.Cached, id)
			}
		}
	case "executing":
		node, ok := nodeID(common.Node)
		if common.PromptID == nil && !st.started {
			return // an old server's event from before our prompt started
		}
		st.closeNode(f.at)
		if !ok {
			st.finished = true
			return
		}
		st.current, st.currentStart = node, f.at
		st.res.Executed = append(st.res.Executed, node)
	case "progress":
		var d struct {
			Value, Max int
		}
		_ = json.Unmarshal(ev.Data, &d)
		if node, _ := nodeID(common.Node); st.progress != nil {
			st.progress(node, d.Value, d.Max)
		}
	case "executed":
		var d struct {
			Output NodeOutput `json:"output"`
		}
		if node, ok := nodeID(common.Node); ok && json.Unmarshal(ev.Data, &d) == nil {
			if st.wsOutputs == nil {
				st.wsOutputs = map[string]NodeOutput{}
			}
			prev := st.wsOutputs[node]
			d.Output.Images = append(prev.Images, d.Output.Images...)
			st.wsOutputs[node] = d.Output
		}
	case "execution_success":
		st.terminal = true
		st.closeNode(f.at)
	case "execution_error":
		st.execErr = decodeExecutionError(ev.Data)
		st.terminal = true
		st.closeNode(f.at)
	case "execution_interrupted":
		st.interrupted = ev.Data
		st.terminal = true
		st.closeNode(f.at)
	}
}

// closeNode ends the running node's timing.
func (st *runState) closeNode(at time.Time) {
	if st.current != "" {
		st.res.Timings[st.current] += at.Sub(st.currentStart)
		st.current = ""
	}
}

// binary handles a binary frame: a 4-byte big-endian event type, then
// (type 1) a 4-byte image format and the image, or (type 4) a 4-byte
// metadata length, JSON metadata and the image.
func (st *runState) binary(data []byte) {
	if len(data) < 8 {
		return
	}
	switch binary.BigEndian.Uint32(data[:4]) {
	case binPreviewImage:
		if st.current == "" {
			return
		}
		if binary.BigEndian.Uint32(data[4:8]) == formatPNG {
			st.res.WSImages[st.current] = append(st.res.WSImages[st.current], bytes.Clone(data[8:]))
		} else {
			st.res.Previews++
		}
	case binPreviewImageWithMeta:
		n := binary.BigEndian.Uint32(data[4:8])
		if uint64(len(data)) < 8+uint64(n) {
			return
		}
		var meta struct {
			NodeID    string `json:"node_id"`
			PromptID  string `json:"prompt_id"`
			ImageType string `json:"image_type"`
		}
		if json.Unmarshal(data[8:8+n], &meta) != nil || (meta.PromptID != "" && meta.PromptID != st.id) {
			return
		}
		node := meta.NodeID
		if node == "" {
			node = st.current
		}
		if meta.ImageType == "image/png" && node != "" {
			st.res.WSImages[node] = append(st.res.WSImages[node], bytes.Clone(data[8+n:]))
		} else {
			st.res.Previews++
		}
	case binText:
		// progress text; nothing to keep
	}
}

// finish fills the result from the history entry and returns the prompt's
// error, if it failed.
func (st *runState) finish() error {
	res, h := st.res, st.entry
	res.History, res.Status = h, h.Status
	for id, o := range h.Outputs {
		res.Outputs[id] = o
	}
	for id, o := range st.wsOutputs {
		if _, ok := res.Outputs[id]; !ok {
			res.Outputs[id] = o
		}
	}
	if res.Polled && len(res.Cached) == 0 {
		if d, ok := h.message("execution_cached"); ok {
			var c struct {
				Nodes []json.RawMessage `json:"nodes"`
			}
			_ = json.Unmarshal(d, &c)
			for _, n := range c.Nodes {
				if id, ok := nodeID(n); ok {
					res.Cached = append(res.Cached, id)
				}
			}
		}
	}
	if st.execErr == nil {
		if d, ok := h.message("execution_error"); ok {
			st.execErr = decodeExecutionError(d)
		}
	}
	if st.interrupted == nil {
		if d, ok := h.message("execution_interrupted"); ok {
			st.interrupted = d
		}
	}
	switch {
	case st.execErr != nil:
		if st.execErr.PromptID == "" {
			st.execErr.PromptID = st.id
		}
		return st.execErr
	case st.interrupted != nil:
		var d struct {
			NodeID   json.RawMessage `json:"node_id"`
			NodeType string          `json:"node_type"`
		}
		_ = json.Unmarshal(st.interrupted, &d)
		node, _ := nodeID(d.NodeID)
		return fmt.Errorf("prompt %s at node %s (%s): %w", st.id, node, d.NodeType, ErrInterrupted)
	case h.Status.StatusStr == "error":
		return &ExecutionError{PromptID: st.id, Message: "the server reports status error without an execution_error message"}
	}
	return nil
}

func decodeExecutionError(data json.RawMessage) *ExecutionError {
	var d struct {
		ExecutionError
		NodeID   json.RawMessage   `json:"node_id"`
		Executed []json.RawMessage `json:"executed"`
	}
	e := &ExecutionError{Raw: append(json.RawMessage(nil), data...)}
	if err := json.Unmarshal(data, &d); err != nil {
		e.Message = fmt.Sprintf("undecodable execution_error: %v", err)
		return e
	}
	*e = d.ExecutionError
	e.Raw = append(json.RawMessage(nil), data...)
	e.NodeID, _ = nodeID(d.NodeID)
	e.Executed = nil
	for _, n := range d.Executed {
		if id, ok := nodeID(n); ok {
			e.Executed = append(e.Executed, id)
		}
	}
	return e
}

// nodeID decodes a node id written as a string or a number; null or absent
// is not an id.
func nodeID(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		return n.String(), true
	}
	return "", false
}
