package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// graceAfterTerminal is how long Run waits for `executing` with node null
// after execution_success/error/interrupted before reading history anyway.
const graceAfterTerminal = 2 * time.Second

// connectWait bounds the wait for the server's first websocket frame (the
// `status` it sends once the socket is registered) before submitting.
const connectWait = 5 * time.Second

// maxPollErrors is how many history polls in a row may fail before Run
// gives up on a prompt whose websocket dropped.
const maxPollErrors = 10

// maxPollBackoff is how many poll intervals apart the polls of a prompt
// followed without a websocket may grow.
const maxPollBackoff = 4

// errNoWebsocket is dialWS's answer when the server (or a proxy in front of
// it) answers /ws with a plain HTTP status instead of upgrading.
var errNoWebsocket = errors.New("the server does not upgrade /ws")

// pollBackoff is the wait before the poll after n empty polls: interval,
// doubling, capped at maxPollBackoff intervals.
func pollBackoff(interval time.Duration, n int) time.Duration {
	if n > 2 {
		n = 2 // 1<<2 == maxPollBackoff
	}
	return min(interval<<n, maxPollBackoff*interval)
}

// RunOptions configure one Run.
type RunOptions struct {
	// ExtraPNGInfo is sent as extra_data.extra_pnginfo; SaveImage writes
	// each key as a PNG text chunk. Usually {"workflow": <UI graph>}.
	ExtraPNGInfo map[string]any
	// ClientID is the websocket client id (default: a random UUID).
	ClientID string
	// PromptID is the prompt id to request (default: a random UUID).
	PromptID string
	// Timeout bounds the whole run; on expiry the prompt is interrupted and
	// Run returns an error wrapping ErrTimeout. Zero means only ctx bounds it.
	Timeout time.Duration
	// Progress, if set, is called for each progress event of the prompt.
	Progress func(node string, value, max int)
}

// Result is what one prompt produced.
type Result struct {
	// PromptID is the id the server gave the prompt.
	PromptID string
	// Number is the queue number the server gave the prompt.
	Number json.Number
	// NodeErrors are output nodes the server dropped at validation even
	// though it accepted the prompt (a 200 with node_errors).
	NodeErrors map[string]NodeError
	// Outputs are the UI outputs per node id, from /history.
	Outputs map[string]NodeOutput
	// WSImages are PNG images that arrived as binary websocket frames while
	// a node ran (SaveImageWebsocket), per node id, in arrival order.
	WSImages map[string][][]byte
	// Previews counts other binary image frames (JPEG sampler previews).
	Previews int
	// Cached are the nodes the server served from its cache.
	Cached []string
	// Executed are the nodes the server ran, in order.
	Executed []string
	// Timings are each executed node's wall time as seen by the client
	// (from its `executing` event to the next).
	Timings map[string]time.Duration
	// Status is the history entry's status (status_str, completed, messages).
	Status Status
	// History is the whole history entry.
	History *HistoryEntry
	// Polled is true when the websocket dropped and Run polled /history.
	Polled bool
	// Duration is the wall time from submission to the history entry.
	Duration time.Duration
}

// accepted is POST /prompt's 200 answer.
type accepted struct {
	PromptID   string               `json:"prompt_id"`
	Number     json.Number          `json:"number"`
	NodeErrors map[string]NodeError `json:"node_errors"`
}

// Run submits prompt (an API-format prompt: a workflow.Prompt, a map, or
// JSON bytes) and waits for it to finish. See the package doc for the
// protocol and the errors. On ctx cancellation it interrupts the prompt
// (best effort) and returns ctx's error. With an *ExecutionError or
// ErrInterrupted the partial Result is returned too.
func (c *Client) Run(ctx context.Context, prompt any, opts RunOptions) (*Result, error) {
	clientID, promptID := opts.ClientID, opts.PromptID
	if clientID == "" {
		clientID = newID()
	}
	if promptID == "" {
		promptID = newID()
	}
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	frames, early, closeWS, err := c.openEvents(ctx, clientID, opts.Timeout)
	if err != nil {
		return nil, err
	}
	defer closeWS()
	noWS := frames == nil

	start := time.Now()
	acc, err := c.submit(ctx, prompt, clientID, promptID, opts.ExtraPNGInfo)
	if err != nil {
		if ctx.Err() != nil {
			// Cancelled mid-submission: the server may have taken it.
			c.abandon(ctx, promptID)
		}
		return nil, err
	}
	id := acc.PromptID
	log := c.log.With("prompt_id", id)
	log.Debug("prompt accepted", "number", acc.Number, "node_errors", len(acc.NodeErrors))
	st := &runState{id: id, progress: opts.Progress, log: log, res: &Result{
		PromptID: id, Number: acc.Number, NodeErrors: acc.NodeErrors,
		WSImages: map[string][][]byte{}, Timings: map[string]time.Duration{}, Outputs: map[string]NodeOutput{},
	}}
	res := st.res
	if noWS {
		res.Polled = true
	}
	if early != nil {
		if early.err != nil {
			log.Debug("websocket dropped; polling history", "err", early.err)
			frames, res.Polled = nil, true
		} else {
			st.handle(*early)
		}
	}

	// While the websocket is up, history is still polled now and then, in
	// case a proxy loses `executing` null; once it drops (or without one),
	// polled often, backing off while the entry is not there yet.
	emptyPolls := 0
	next := func() time.Duration {
		if res.Polled {
			return pollBackoff(c.pollInterval, emptyPolls)
		}
		return 10 * c.pollInterval
	}
	pollTimer := time.NewTimer(next())
	defer pollTimer.Stop()
	poll := pollTimer.C
	var grace <-chan time.Time
	pollErrors := 0
	for !st.finished {
		select {
		case <-ctx.Done():
			c.abandon(ctx, id)
			return res, fmt.Errorf("run prompt %s: %w", id, ctx.Err())
		case <-deadline:
			c.abandon(ctx, id)
			return res, fmt.Errorf("run prompt %s: %w after %s", id, ErrTimeout, opts.Timeout)
		case f := <-frames:
			if f.err != nil {
				log.Debug("websocket dropped; polling history", "err", f.err)
				frames, res.Polled, emptyPolls = nil, true, 0
				pollTimer.Reset(next())
				continue
			}
			st.handle(f)
			if st.terminal && grace == nil {
				grace = time.After(graceAfterTerminal)
			}
		case <-poll:
			h, ok, err := c.history(ctx, id)
			if err != nil {
				if pollErrors++; res.Polled && pollErrors >= maxPollErrors {
					return res, fmt.Errorf("run prompt %s: websocket dropped and history unreachable: %w", id, err)
				}
				log.Debug("poll history", "err", err)
				pollTimer.Reset(next())
				continue
			}
			pollErrors = 0
			if ok && (res.Polled || h.Status.Completed || h.Status.StatusStr != "") {
				st.entry, st.finished = h, true
				continue
			}
			emptyPolls++
			pollTimer.Reset(next())
		case <-grace:
			st.finished = true
		}
	}
	if st.entry == nil {
		if st.entry, err = c.awaitHistory(ctx, id, deadline); err != nil {
			return res, fmt.Errorf("run prompt %s: %w", id, err)
		}
	}
	res.Duration = time.Since(start)
	return res, st.finish()
}

// openEvents opens the prompt's websocket and waits for the server's first
// frame. Without a websocket (the server or a proxy answers /ws with a
// plain HTTP status such as 426) it returns nil frames and no error: Run
// then follows the prompt by polling /history, and the client says so once.
func (c *Client) openEvents(ctx context.Context, clientID string, timeout time.Duration) (<-chan frame, *frame, func(), error) {
	if c.noWS.Load() {
		return nil, nil, func() {}, nil
	}
	ws, err := c.dialWS(ctx, clientID)
	if errors.Is(err, errNoWebsocket) {
		c.noWS.Store(true)
		c.noWSOnce.Do(func() {
			c.log.Warn("no websocket: following prompts by polling /history (no progress or websocket images)", "err", err)
		})
		return nil, nil, func() {}, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	readCtx, stopRead := context.WithCancel(context.WithoutCancel(ctx))
	closeWS := func() {
		stopRead()
		ws.CloseNow()
	}
	frames := make(chan frame, 64)
	go readFrames(readCtx, ws, frames)

	// ComfyUI registers a socket before it sends the first `status`; waiting
	// for that frame closes the window in which a fast prompt's events (and
	// SaveImageWebsocket's images) would be sent to no one.
	wait := connectWait
	if timeout > 0 && timeout/4 < wait {
		wait = timeout / 4
	}
	select {
	case f := <-frames:
		return frames, &f, closeWS, nil
	case <-time.After(wait):
		c.log.Debug("no status frame after connecting; submitting anyway", "wait", wait)
		return frames, nil, closeWS, nil
	case <-ctx.Done():
		closeWS()
		return nil, nil, nil, fmt.Errorf("connect websocket: %w", ctx.Err())
	}
}

// awaitHistory reads the prompt's history entry, retrying briefly: a server
// writes it just before `executing` null, but a proxy may lag.
func (c *Client) awaitHistory(ctx context.Context, id string, deadline <-chan time.Time) (*HistoryEntry, error) {
	for attempt := 0; ; attempt++ {
		h, ok, err := c.history(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			return h, nil
		}
		if attempt >= 20 {
			return nil, fmt.Errorf("prompt finished but /history has no entry for it: %w", ErrNotFound)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline:
			return nil, ErrTimeout
		case <-time.After(c.pollInterval):
		}
	}
}

// submit POSTs /prompt. Only failures that prove the server did not take
// the prompt are retried (by do); anything later is reported, never
// resubmitted.
func (c *Client) submit(ctx context.Context, prompt any, clientID, promptID string, extra map[string]any) (*accepted, error) {
	if b, ok := prompt.([]byte); ok {
		prompt = json.RawMessage(b)
	}
	body := map[string]any{"prompt": prompt, "client_id": clientID, "prompt_id": promptID}
	if len(extra) > 0 {
		body["extra_data"] = map[string]any{"extra_pnginfo": extra}
	}
	resp, err := c.postJSON(ctx, "/prompt", body, false)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) || isDialError(err) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("submit prompt: %w", err)
		}
		// The request may have reached the server: never resubmit, but
		// look for the prompt and follow it if the server took it.
		if c.known(ctx, promptID) {
			c.log.Warn("submit failed but the server has the prompt; following it", "prompt_id", promptID, "err", err)
			return &accepted{PromptID: promptID}, nil
		}
		return nil, fmt.Errorf("submit prompt %s (the server may have queued it; not resubmitted): %w", promptID, err)
	}
	if resp.status == http.StatusBadRequest {
		ve := &ValidationError{StatusCode: resp.status, Body: json.RawMessage(resp.body)}
		var v struct {
			Error      json.RawMessage      `json:"error"`
			NodeErrors map[string]NodeError `json:"node_errors"`
		}
		if err := json.Unmarshal(resp.body, &v); err != nil {
			ve.Err.Message = truncate(strings.TrimSpace(string(resp.body)), 512)
			return nil, ve
		}
		ve.NodeErrors = v.NodeErrors
		if json.Unmarshal(v.Error, &ve.Err) != nil {
			_ = json.Unmarshal(v.Error, &ve.Err.Message) // some servers send a string
		}
		return nil, ve
	}
	var acc accepted
	if err := json.Unmarshal(resp.body, &acc); err != nil {
		return nil, fmt.Errorf("submit prompt: decode answer: %w", err)
	}
	if acc.PromptID == "" {
		return nil, fmt.Errorf("submit prompt: the server's answer has no prompt_id: %s", truncate(string(resp.body), 200))
	}
	return &acc, nil
}

// known reports whether the server has promptID queued, running or in
// its history.
func (c *Client) known(ctx context.Context, promptID string) bool {
	kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if q, err := c.Queue(kctx); err == nil {
		for _, it := range append(q.Running, q.Pending...) {
			if it.PromptID == promptID {
				return true
			}
		}
	}
	_, ok, err := c.history(kctx, promptID)
	return err == nil && ok
}

// abandon interrupts the prompt and drops it from the queue, best effort,
// with a short budget that outlives ctx.
func (c *Client) abandon(ctx context.Context, id string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.Interrupt(actx, id); err != nil {
		c.log.Debug("interrupt abandoned prompt", "prompt_id", id, "err", err)
	}
	if err := c.DeleteQueued(actx, id); err != nil {
		c.log.Debug("delete abandoned prompt from queue", "prompt_id", id, "err", err)
	}
}

// dialWS opens /ws?clientId=…, retrying any failure (opening a socket has no
// side effects).
func (c *Client) dialWS(ctx context.Context, clientID string) (*websocket.Conn, error) {
	u := *c.base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[c.base.Scheme]
	u.Path = strings.TrimRight(c.base.Path, "/") + "/ws"
	u.RawQuery = url.Values{"clientId": {clientID}}.Encode()
	for attempt := 0; ; attempt++ {
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if c.timeout > 0 {
			dctx, cancel = context.WithTimeout(ctx, c.timeout)
		}
		conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: c.hc})
		cancel()
		if err == nil {
			conn.SetReadLimit(512 << 20) // SaveImageWebsocket sends whole PNGs
			return conn, nil
		}
		if resp != nil && noUpgrade(resp.StatusCode) {
			// A definite answer, not a failure to retry: this server (or
			// the proxy in front of it) does not do websockets.
			return nil, fmt.Errorf("open websocket %s: HTTP %d: %w", u.Redacted(), resp.StatusCode, errNoWebsocket)
		}
		err = fmt.Errorf("open websocket %s: %w", u.Redacted(), err)
		if attempt >= c.retries || ctx.Err() != nil {
			return nil, err
		}
		wait := c.wait(attempt)
		c.log.Debug("retrying websocket", "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (while retrying after: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

// noUpgrade reports whether an HTTP status answering a websocket handshake
// says the route will never upgrade (426 Upgrade Required from a plain HTTP
// proxy, or a server without the route), as opposed to a passing failure
// (a 502 or 503 while a proxy's backend restarts) worth retrying.
func noUpgrade(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusUpgradeRequired, http.StatusNotImplemented:
		return true
	}
	return false
}
