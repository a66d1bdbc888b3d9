package report

import (
	"fmt"
	"io"
	"strings"
)

// Terminal writes the human summary: one line per case (verdict, tier, the
// key metric against its threshold, time), then totals. runDir, when set,
// is named in the approve hint for new cases.
func Terminal(w io.Writer, r *Run, runDir string) {
	width := 10
	for _, c := range r.Cases {
		if len(c.ID) > width {
			width = len(c.ID)
		}
	}
	for _, c := range r.Cases {
		fmt.Fprintf(w, "%-6s %-*s  %-9s %s\n", strings.ToUpper(string(c.Verdict)), width, c.ID, tierOf(c), detail(c))
		if c.Verdict == Error {
			// A multi-line error (a server's answer, node errors, what the
			// retries met) continues under its case, indented.
			for _, l := range moreLines(c.Problem()) {
				fmt.Fprintf(w, "       %s\n", l)
			}
		}
	}
	TerminalSince(w, r)
	if r.TargetClass != "" && r.TargetClass != r.Environment {
		fmt.Fprintf(w, "judged across classes: target class %s against the %s goldens, with thresholds calibrated for the pair\n", r.TargetClass, r.Environment)
	}
	r.Tally()
	t := r.Totals
	fmt.Fprintf(w, "%d cases: %d pass, %d pass~, %d fail, %d error, %d new, %d skip (%.1fs)\n",
		t.Cases, t.Pass, t.PassApprox, t.Fail, t.Error, t.New, t.Skip, r.WallSeconds)
	if r.Error != "" {
		fmt.Fprintf(w, "run error: %s\n", r.Error)
	}
	if t.New > 0 {
		dir := runDir
		if dir == "" {
			dir = "<this run's report dir>"
		}
		verb := "cases have"
		if t.New == 1 {
			verb = "case has"
		}
		fmt.Fprintf(w, "%d %s no golden: review the candidates, then run `regen golden approve --from-run %s`\n", t.New, verb, dir)
	}
}

func tierOf(c Case) string {
	if c.Tier != "" {
		return c.Tier
	}
	return "-"
}

func detail(c Case) string {
	secs := fmt.Sprintf("%6.2fs", c.TotalSeconds)
	switch c.Verdict {
	case Skip:
		return "skipped: " + c.Skip
	case Error:
		s := secs + "  " + headLine(c.Problem())
		if c.Attempts > 1 {
			s += fmt.Sprintf(" (after %d attempts)", c.Attempts)
		}
		return s
	}
	// The worst output's key metric stands for the case.
	var worst *Output
	for i := range c.Outputs {
		o := &c.Outputs[i]
		if worst == nil || rank(o.Verdict) > rank(worst.Verdict) {
			worst = o
		}
	}
	s := secs
	if worst != nil && worst.Key != nil {
		op := "<="
		if worst.Key.Value > worst.Key.Threshold {
			op = "> "
		}
		s += fmt.Sprintf("  %s %.4g %s %.4g", worst.Key.Name, worst.Key.Value, op, worst.Key.Threshold)
	}
	if c.Reason != "" && c.Verdict != Pass {
		s += "  " + firstLine(c.Reason)
	}
	if n := len(c.Outputs); n > 1 {
		s += fmt.Sprintf("  (%d outputs)", n)
	}
	if n := len(c.Retried); n > 0 {
		s += fmt.Sprintf("  (retried %d: %s)", n, firstLine(c.Retried[0]))
	}
	return s
}

// maxMoreLines bounds the lines shown under an error case.
const maxMoreLines = 12

// headLine is the first line of s, cut at 240 characters.
func headLine(s string) string {
	head, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return firstLine(head)
}

// moreLines returns the lines of s after the first (blank ones dropped,
// each cut at 240 characters, at most maxMoreLines).
func moreLines(s string) []string {
	_, rest, ok := strings.Cut(strings.TrimSpace(s), "\n")
	if !ok {
		return nil
	}
	var out []string
	for _, l := range strings.Split(rest, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if len(out) == maxMoreLines {
			out = append(out, "…")
			break
		}
		if len(l) > 240 {
			l = l[:237] + "..."
		}
		out = append(out, l)
	}
	return out
}

// firstLine renders a possibly multi-line message on one line (lines
// joined with a space), cut at 240 characters.
func firstLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:237] + "..."
	}
	return s
}
