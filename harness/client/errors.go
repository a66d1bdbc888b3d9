package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Sentinel errors.
var (
	// ErrInterrupted: the prompt was interrupted (execution_interrupted).
	ErrInterrupted = errors.New("prompt interrupted")
	// ErrTimeout: a Run exceeded RunOptions.Timeout; the prompt was
	// interrupted.
	ErrTimeout = errors.New("prompt timed out")
	// ErrNotFound: the server has no history entry for the prompt (yet).
	ErrNotFound = errors.New("not found")
)

// HTTPError is an unexpected HTTP status.
type HTTPError struct {
	Method, Path string
	StatusCode   int
	Body         string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	b := strings.TrimSpace(e.Body)
	switch {
	case b == "":
	case strings.Contains(b, "\n"):
		// A multi-line body (a traceback, say) keeps its lines, indented
		// under the status line.
		msg += ":"
		for _, l := range strings.Split(b, "\n") {
			msg += "\n  " + strings.TrimRight(l, " \t\r")
		}
	default:
		msg += ": " + b
	}
	return msg
}

// ErrorDetail is ComfyUI's error object: the top-level "error" of a 400
// and each reason in a node's "errors".
type ErrorDetail struct {
	Type      string         `json:"type"`
	Message   string         `json:"message"`
	Details   string         `json:"details"`
	ExtraInfo map[string]any `json:"extra_info,omitempty"`
}

func (d ErrorDetail) String() string {
	s := d.Message
	if s == "" {
		s = d.Type
	}
	if d.Details != "" {
		s += ": " + d.Details
	}
	return s
}

// NodeError is one node's entry in node_errors.
type NodeError struct {
	Errors           []ErrorDetail `json:"errors"`
	DependentOutputs []any         `json:"dependent_outputs"`
	ClassType        string        `json:"class_type"`
}

// ValidationError is the server's 400 answer to POST /prompt: the prompt
// was rejected and not queued.
type ValidationError struct {
	StatusCode int
	Err        ErrorDetail
	NodeErrors map[string]NodeError
	// Body is the raw answer.
	Body json.RawMessage
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prompt rejected by the server: %s", e.Err.Message)
	if e.Err.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Err.Type)
	}
	if len(e.NodeErrors) == 0 && e.Err.Details != "" {
		fmt.Fprintf(&b, ": %s", e.Err.Details)
	}
	b.WriteString(formatNodeErrors(e.NodeErrors))
	return b.String()
}

// formatNodeErrors lists node errors, one reason per line, nodes in id
// order.
func formatNodeErrors(ne map[string]NodeError) string {
	ids := make([]string, 0, len(ne))
	for id := range ne {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		n := ne[id]
		for _, r := range n.Errors {
			fmt.Fprintf(&b, "\n  - node %s (%s): %s", id, n.ClassType, r)
			if r.Type != "" {
				fmt.Fprintf(&b, " [%s]", r.Type)
			}
		}
	}
	return b.String()
}

// ExecutionError is an execution_error: a node raised while running.
type ExecutionError struct {
	PromptID      string          `json:"prompt_id"`
	NodeID        string          `json:"node_id"`
	NodeType      string          `json:"node_type"`
	Executed      []string        `json:"executed"`
	Message       string          `json:"exception_message"`
	ExceptionType string          `json:"exception_type"`
	Traceback     []string        `json:"traceback"`
	CurrentInputs map[string]any  `json:"current_inputs"`
	Raw           json.RawMessage `json:"-"`
}

func (e *ExecutionError) Error() string {
	return fmt.Sprintf("node %s (%s) failed: %s: %s", e.NodeID, e.NodeType, e.ExceptionType, strings.TrimSpace(e.Message))
}

// IsInfrastructure reports whether err is a failure of the server or the
// connection (refused, reset, 5xx, timeouts, a dropped websocket) rather
// than a verdict on the prompt (validation, execution error, interrupt) or
// a cancellation by the caller.
func IsInfrastructure(err error) bool {
	if err == nil {
		return false
	}
	var ve *ValidationError
	var ee *ExecutionError
	switch {
	case errors.As(err, &ve), errors.As(err, &ee), errors.Is(err, ErrInterrupted), errors.Is(err, context.Canceled):
		return false
	}
	return true
}
