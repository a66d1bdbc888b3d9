package report

import (
	"fmt"
	"io"
)

// Since names, for a case that did not pass, where the history saw it
// change: the last recorded commit where it passed and the first recorded
// commit (after that one) where it did not. Either may be empty: never
// passed, or this run is the first failure.
type Since struct {
	LastPass        string `json:"last_pass,omitempty"`
	LastPassSubject string `json:"last_pass_subject,omitempty"`
	FirstFail       string `json:"first_fail,omitempty"`
	FirstFailSubj   string `json:"first_fail_subject,omitempty"`
}

func short(c string) string {
	if len(c) > 10 {
		return c[:10]
	}
	return c
}

// String is one line: "last pass abc1234 (subject), first failed def5678 (subject)".
func (s Since) String() string {
	lp := "never passed in the history"
	if s.LastPass != "" {
		lp = fmt.Sprintf("last pass %s (%s)", short(s.LastPass), s.LastPassSubject)
	}
	ff := "first failed in this run"
	if s.FirstFail != "" {
		ff = fmt.Sprintf("first failed at %s (%s)", short(s.FirstFail), s.FirstFailSubj)
	}
	return lp + ", " + ff
}

// TrendPoint is a case's verdict at one recorded commit.
type TrendPoint struct {
	Commit  string `json:"commit"`
	Subject string `json:"subject,omitempty"`
	Verdict string `json:"verdict"`
	// Thumb is a small PNG data URI of the case's output at that commit,
	// when the history kept it (--history-images); the report's strip
	// shows it instead of a badge. It is in results.json, so that
	// report.html, rendered from it, stays self-contained (the history
	// bounds the bytes: history.DefaultThumbBudget).
	Thumb string `json:"thumb,omitempty"`
}

// TerminalSince writes one line per case that the history annotated.
func TerminalSince(w io.Writer, r *Run) {
	for _, c := range r.Cases {
		if c.Since != nil {
			fmt.Fprintf(w, "  history: %s: %s\n", c.ID, c.Since)
		}
	}
}
