package runner

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"
)

// DefaultRetryBackoff is the pause before a case's first retry; it
// doubles for each further one, up to maxRetryWait.
const DefaultRetryBackoff = 500 * time.Millisecond

const maxRetryWait = 10 * time.Second

func retryWait(base time.Duration, attempt int) time.Duration {
	if base <= 0 {
		base = DefaultRetryBackoff
	}
	if attempt > 10 {
		return maxRetryWait
	}
	return min(base<<attempt, maxRetryWait)
}

// What a connection failure says about the executor.
const (
	causeDropped = "dropped the connection"
	causeRefused = "refused the connection"
)

// connectionCause classifies a replay error: the executor dropped a
// connection it had (EOF, reset, a broken pipe, a closed websocket), or
// refuses new ones; "" for anything else.
func connectionCause(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, "connection refused"):
		return causeRefused
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), strings.Contains(msg, "EOF"), strings.Contains(msg, "connection reset"),
		strings.Contains(msg, "broken pipe"), strings.Contains(msg, "websocket"):
		return causeDropped
	}
	return ""
}

// droppedAt is where an executor was first seen to drop a connection.
type droppedAt struct{ endpoint, caseID string }

// replayError is a failed case's error: what went wrong first, with its
// cause (connectionCause, or causeDropped for an executor that took the
// prompt and then went away), not the retries' failure to reach the
// executor that followed; then, on its own line, how the retries ended.
func (s *Session) replayError(first error, cause string, last error, attempts int) string {
	var b strings.Builder
	b.WriteString("replay: ")
	switch cause {
	case causeDropped:
		b.WriteString("the executor dropped the connection: ")
	case causeRefused:
		b.WriteString("the executor refused the connection")
		if d := s.dropped.Load(); d != nil {
			fmt.Fprintf(&b, " (it dropped the connection during %s)", d.caseID)
		}
		b.WriteString(": ")
	}
	b.WriteString(first.Error())
	if attempts > 1 {
		fmt.Fprintf(&b, "\n%d retries failed too", attempts-1)
		if last.Error() != first.Error() {
			b.WriteString(", the last with: " + last.Error())
		}
	}
	return b.String()
}
