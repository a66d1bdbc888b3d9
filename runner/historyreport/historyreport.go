// Package historyreport renders history.html (`regen report history`): one
// self-contained page (no external fetches) with, per recorded commit, its
// subject, verdict counts and what changed there, and, per case, its
// verdicts over the commits and its metrics as small inline SVG plots.
package historyreport

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner/history"
)

// File is the default output file name.
const File = "history.html"

// PlotMetrics are the metrics plotted per case, when recorded. An exact
// pass computes no other tier: it plots as 0 (identical).
var PlotMetrics = []string{"colour.mean_delta_e", "structure.hash_bits", "local.window_ratio"}

// Options tune Render.
type Options struct {
	// Store names the history in the page.
	Store string
	// Now is the generation time shown (default time.Now).
	Now time.Time
	// Thumb, when set, gives a state's output thumbnail as a PNG data URI
	// ("" when none was kept; history.Thumbs.Of): a case's strip then shows
	// it instead of the badge at its last MaxThumbs recorded commits.
	Thumb func(history.State) string
	// MaxThumbs caps the thumbnails per case (default DefaultMaxThumbs).
	MaxThumbs int
}

// DefaultMaxThumbs is how many of a case's last recorded commits show a
// thumbnail, when kept.
const DefaultMaxThumbs = 12

type commitRow struct {
	Short, Commit, Subject string
	Counts                 []count
	Bar                    template.HTML
	Changes                []changeGroup
}

type count struct {
	Verdict string
	N       int
}

type changeGroup struct {
	Kind  string
	Cases []string
}

type caseRow struct {
	ID    string
	Strip template.HTML
	Plots []plot
}

type plot struct {
	Name     string
	SVG      template.HTML
	Min, Max string
}

type page struct {
	Store, Generated string
	Commits          []commitRow
	Cases            []caseRow
	N                int
}

var colours = map[string]string{"pass": "#2a7", "pass~": "#7a3", "new": "#c80", "fail": "#c22", "error": "#804", "skip": "#999"}

func colour(v string) string {
	if c, ok := colours[v]; ok {
		return c
	}
	return "#804"
}

var order = []string{"pass", "pass~", "fail", "error", "new", "skip"}

// Render writes the page for entries (oldest first, as history.Recent
// returns them).
func Render(w io.Writer, entries []history.Entry, opts Options) error {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	p := page{Store: opts.Store, Generated: opts.Now.UTC().Format("2006-01-02 15:04 UTC"), N: len(entries)}
	total := 0
	for _, e := range entries {
		n := 0
		for _, c := range e.Counts {
			n += c
		}
		total = max(total, n)
	}
	for i := len(entries) - 1; i >= 0; i-- { // newest first
		e := entries[i]
		row := commitRow{Short: short(e.Commit.Commit), Commit: e.Commit.Commit, Subject: e.Commit.Subject}
		var bar strings.Builder
		fmt.Fprintf(&bar, `<svg width="160" height="12" viewBox="0 0 160 12" role="img" aria-label="verdict counts">`)
		x := 0.0
		for _, v := range order {
			n := e.Counts[v]
			if n == 0 {
				continue
			}
			row.Counts = append(row.Counts, count{v, n})
			wd := 160 * float64(n) / float64(max(total, 1))
			fmt.Fprintf(&bar, `<rect x="%.1f" y="0" width="%.1f" height="12" fill="%s"><title>%d %s</title></rect>`, x, wd, colour(v), n, v)
			x += wd
		}
		bar.WriteString(`</svg>`)
		row.Bar = template.HTML(bar.String())
		for _, kind := range []string{history.Regressed, history.Fixed, history.Approved, history.Changed, history.Appeared} {
			var ids []string
			for _, c := range e.Changes {
				if c.Kind == kind {
					ids = append(ids, c.Case)
				}
			}
			if len(ids) > 0 {
				row.Changes = append(row.Changes, changeGroup{kind, ids})
			}
		}
		p.Commits = append(p.Commits, row)
	}
	p.Cases = caseRows(entries, opts)
	if err := pageTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("render history report: %w", err)
	}
	return nil
}

func short(c string) string {
	if len(c) > 10 {
		return c[:10]
	}
	return c
}

// caseRows builds, per case seen in entries, its strip and plots, one
// column per commit (a gap where the case was not recorded).
func caseRows(entries []history.Entry, opts Options) []caseRow {
	at := map[string][]*history.State{}
	for i, e := range entries {
		for j := range e.States {
			st := &e.States[j]
			if at[st.Case] == nil {
				at[st.Case] = make([]*history.State, len(entries))
			}
			at[st.Case][i] = st
		}
	}
	ids := make([]string, 0, len(at))
	for id := range at {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	const cell, h = 10, 16
	width := max(len(entries)*cell, cell)
	var out []caseRow
	for _, id := range ids {
		sts := at[id]
		strip := thumbStrip(sts, opts)
		if strip == "" {
			strip = badgeStrip(sts, width, h, cell)
		}
		row := caseRow{ID: id, Strip: template.HTML(strip)}
		for _, m := range PlotMetrics {
			if pl, ok := plotOf(m, sts, width, cell); ok {
				row.Plots = append(row.Plots, pl)
			}
		}
		out = append(out, row)
	}
	return out
}

// badgeStrip draws a case's verdicts as one badge per commit, in columns
// that line up with its plots.
func badgeStrip(sts []*history.State, width, h, cell int) string {
	var strip strings.Builder
	fmt.Fprintf(&strip, `<svg width="%d" height="%d" viewBox="0 0 %d %d">`, width, h, width, h)
	for i, st := range sts {
		if st == nil {
			continue
		}
		fmt.Fprintf(&strip, `<rect x="%d" y="1" width="%d" height="%d" rx="2" fill="%s"><title>%s %s: %s</title></rect>`,
			i*cell, cell-2, h-2, colour(st.Verdict), short(st.Commit), template.HTMLEscapeString(st.Verdict), template.HTMLEscapeString(st.Subject))
	}
	strip.WriteString(`</svg>`)
	return strip.String()
}

// thumbStrip draws a case's verdicts with, at its last MaxThumbs recorded
// commits, the thumbnail of its output where one was kept (underlined in
// the verdict's colour), and badges elsewhere; "" when no thumbnail was
// kept (the badge strip then).
func thumbStrip(sts []*history.State, opts Options) string {
	if opts.Thumb == nil {
		return ""
	}
	limit := opts.MaxThumbs
	if limit <= 0 {
		limit = DefaultMaxThumbs
	}
	thumbs := make([]string, len(sts))
	any := false
	for i := len(sts) - 1; i >= 0 && limit > 0; i-- {
		if sts[i] == nil {
			continue
		}
		limit--
		if uri := opts.Thumb(*sts[i]); isPNGDataURI(uri) {
			thumbs[i], any = uri, true
		}
	}
	if !any {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<div class="tstrip">`)
	for i, st := range sts {
		switch {
		case st == nil:
			b.WriteString(`<span class="gap"></span>`)
		case thumbs[i] != "":
			fmt.Fprintf(&b, `<img class="thumb" src="%s" alt="%s" title="%s %s: %s" style="border-bottom-color:%s">`,
				thumbs[i], template.HTMLEscapeString(st.Verdict), short(st.Commit), template.HTMLEscapeString(st.Verdict), template.HTMLEscapeString(st.Subject), colour(st.Verdict))
		default:
			fmt.Fprintf(&b, `<span class="badge" title="%s %s: %s" style="background:%s"></span>`,
				short(st.Commit), template.HTMLEscapeString(st.Verdict), template.HTMLEscapeString(st.Subject), colour(st.Verdict))
		}
	}
	b.WriteString(`</div>`)
	return b.String()
}

// isPNGDataURI is true for a base64 PNG data URI, safe in an attribute as
// it is.
func isPNGDataURI(s string) bool {
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(s, prefix) || len(s) == len(prefix) {
		return false
	}
	for _, c := range s[len(prefix):] {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// plotOf draws metric m over the commits as a polyline; false when the
// case never recorded it (all exact passes plot nothing).
func plotOf(m string, sts []*history.State, width, cell int) (plot, bool) {
	const h = 28
	vals := make([]float64, len(sts))
	ok := make([]bool, len(sts))
	lo, hi, any := math.Inf(1), math.Inf(-1), false
	for i, st := range sts {
		if st == nil {
			continue
		}
		v, has := st.Metrics[m]
		if !has {
			if st.Verdict != "pass" {
				continue
			}
			v = 0 // an exact pass: identical
		} else {
			any = true
		}
		vals[i], ok[i] = v, true
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if !any {
		return plot{}, false
	}
	span := hi - lo
	if span == 0 {
		span = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%d" height="%d" viewBox="0 0 %d %d"><polyline fill="none" stroke="#36c" stroke-width="1.5" points="`, width, h, width, h)
	for i, v := range vals {
		if !ok[i] {
			continue
		}
		fmt.Fprintf(&b, "%d,%.1f ", i*cell+cell/2-1, float64(h-3)-(v-lo)/span*float64(h-6))
	}
	b.WriteString(`"/>`)
	for i, v := range vals {
		if ok[i] {
			fmt.Fprintf(&b, `<circle cx="%d" cy="%.1f" r="1.8" fill="%s"><title>%s = %.4g</title></circle>`,
				i*cell+cell/2-1, float64(h-3)-(v-lo)/span*float64(h-6), colour(sts[i].Verdict), short(sts[i].Commit), v)
		}
	}
	b.WriteString(`</svg>`)
	return plot{Name: m, SVG: template.HTML(b.String()), Min: fmt.Sprintf("%.3g", lo), Max: fmt.Sprintf("%.3g", hi)}, true
}

var pageTemplate = template.Must(template.New("history").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>regen history</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{margin:.2em 0}h2{margin:1.4em 0 .4em;font-size:1.15em}
code{font-size:12px}table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:middle}
tbody tr:nth-child(even){background:#f6f6f6}
.n{display:inline-block;margin-right:.6em;font-size:12px}.n b{display:inline-block;width:8px;height:8px;border-radius:2px;margin-right:3px}
.kind{font-size:12px;margin-right:.3em;padding:0 4px;border-radius:3px;color:#fff}
.kind.regressed{background:#c22}.kind.fixed{background:#2a7}.kind.approved{background:#36c}.kind.changed{background:#c80}.kind.new{background:#999}
.plots{display:flex;gap:14px;flex-wrap:wrap}.plots figure{margin:0;font-size:11px}.plots figcaption{color:#555}
.legend span{margin-right:1em}
.tstrip{display:flex;gap:2px;align-items:flex-end}
.tstrip img.thumb{display:block;max-width:48px;max-height:48px;image-rendering:pixelated;border-bottom:3px solid;border-radius:2px}
.tstrip .badge{display:inline-block;width:8px;height:14px;border-radius:2px}.tstrip .gap{display:inline-block;width:8px}
</style></head><body>
<h1>regen history</h1>
<p>{{.N}} recorded commit(s){{if .Store}} from <code>{{.Store}}</code>{{end}}, first-parent order, newest first; generated {{.Generated}}.</p>
<p class="legend"><span style="color:#2a7">■ pass</span><span style="color:#7a3">■ pass~</span><span style="color:#c22">■ fail</span><span style="color:#804">■ error</span><span style="color:#c80">■ new</span><span style="color:#999">■ skip</span></p>
<h2>Commits</h2>
<table id="commits"><thead><tr><th>commit</th><th>verdicts</th><th></th><th>subject</th><th>first seen here</th></tr></thead><tbody>
{{range .Commits}}<tr><td><code title="{{.Commit}}">{{.Short}}</code></td><td>{{.Bar}}</td>
<td>{{range .Counts}}<span class="n">{{.N}} {{.Verdict}}</span>{{end}}</td><td>{{.Subject}}</td>
<td>{{range .Changes}}<div><span class="kind {{.Kind}}">{{.Kind}}</span>{{range $i, $c := .Cases}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}}</div>{{end}}</td></tr>
{{end}}</tbody></table>
<h2>Cases</h2>
<p>Each column is a commit, oldest on the left; a gap is a commit where the case was not recorded. Where the history kept the outputs (<code>--history-images</code>), the last commits show a thumbnail of the case's output, underlined in its verdict's colour.</p>
<table id="cases"><thead><tr><th>case</th><th>verdicts</th><th>metrics</th></tr></thead><tbody>
{{range .Cases}}<tr><td><code>{{.ID}}</code></td><td>{{.Strip}}</td>
<td><div class="plots">{{range .Plots}}<figure>{{.SVG}}<figcaption>{{.Name}} {{.Min}}…{{.Max}}</figcaption></figure>{{else}}<span style="color:#777">identical to its golden at every commit</span>{{end}}</div></td></tr>
{{end}}</tbody></table>
</body></html>
`))
