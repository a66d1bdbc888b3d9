package htmlreport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
	"github.com/regen-dev/regen/runner/report"
)

// File is the report's file name inside a run directory.
const File = "report.html"

// DefaultThumbSize is the longer side, in pixels, of a passing case's
// thumbnails.
const DefaultThumbSize = 96

// Options tune Write and Render.
type Options struct {
	// Out is the file to write (default <runDir>/report.html).
	Out string
	// GoldenBase resolves golden paths recorded relative to where regen
	// ran, when they do not exist relative to the current directory
	// (default: the current directory only).
	GoldenBase string
	// ThumbSize is the longer side of passing cases' thumbnails (default
	// DefaultThumbSize).
	ThumbSize int
	// Logger receives diagnostics (default slog.Default()).
	Logger *slog.Logger
	// Warn, when set, receives each warning the report shows (a golden
	// that changed or vanished since the run), as one line.
	Warn func(msg string)
}

// Write reads runDir's results.json and writes the HTML report to
// opts.Out (default runDir/report.html) atomically.
func Write(ctx context.Context, runDir string, opts Options) error {
	r, err := report.Read(runDir)
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join(runDir, File)
	}
	var buf bytes.Buffer
	if err := Render(ctx, &buf, r, runDir, opts); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// Render writes the HTML report of r, whose files live in runDir, to w.
func Render(ctx context.Context, w io.Writer, r *report.Run, runDir string, opts Options) error {
	if opts.ThumbSize <= 0 {
		opts.ThumbSize = DefaultThumbSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	src := imageSource{runDir: runDir, goldenBase: opts.GoldenBase, thumb: opts.ThumbSize}
	p := page{Run: r, Fingerprint: summarizeFingerprint(r.Fingerprint), Tally: tally(r)}
	if len(r.Fingerprint) > 0 {
		var pretty bytes.Buffer
		if json.Indent(&pretty, r.Fingerprint, "", "  ") == nil {
			p.FingerprintJSON = pretty.String()
		}
	}
	for i, c := range r.Cases {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("render html report: %w", err)
		}
		row := newRow(i, c)
		for _, o := range c.Outputs {
			if w := goldenDrift(src, o); w != "" {
				row.Warnings = append(row.Warnings, w)
				p.Warnings = append(p.Warnings, c.ID+": "+w)
				if opts.Warn != nil {
					opts.Warn(c.ID + ": " + w)
				}
			}
		}
		if c.Verdict == report.Pass {
			for _, o := range c.Outputs {
				path := src.goldenFile(o.Golden)
				if o.Candidate != "" {
					path = src.runFile(o.Candidate)
				}
				if uri := src.thumbnail(path); uri != "" {
					row.Thumbs = append(row.Thumbs, image2{Label: o.File, URI: uri})
				} else {
					opts.Logger.Debug("no thumbnail", "case", c.ID, "file", o.File)
				}
			}
			p.Passing = append(p.Passing, row)
		} else if c.Verdict != report.Skip {
			for _, o := range c.Outputs {
				row.Outputs = append(row.Outputs, newPanel(src, o))
			}
			p.Panels = append(p.Panels, row)
		}
		p.Rows = append(p.Rows, row)
	}
	if err := pageTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return nil
}

// page is the template's data.
type page struct {
	Run             *report.Run
	Tally           []count
	Warnings        []string
	Fingerprint     []kv
	FingerprintJSON string
	Rows            []row
	Panels          []row
	Passing         []row
}

type kv struct{ Key, Value string }

// count is one badge of the totals: a verdict and how many cases had it.
type count struct {
	Verdict report.Verdict
	N       int
}

// tally counts r's cases per verdict, in the order the totals show them.
func tally(r *report.Run) []count {
	counted := *r
	counted.Tally()
	t := counted.Totals
	return []count{{report.Pass, t.Pass}, {report.PassApprox, t.PassApprox}, {report.Fail, t.Fail},
		{report.Error, t.Error}, {report.New, t.New}, {report.Skip, t.Skip}}
}

type image2 struct {
	Label string
	URI   template.URL
}

type row struct {
	Anchor string
	Case   report.Case
	// Reason is the case's reason when no single output already says it.
	Reason   string
	Warnings []string
	Key      string
	Time     string
	Outputs  []panel
	Thumbs   []image2
}

type panel struct {
	Out                    report.Output
	Expected, Actual, Diff template.URL
	// Reason is the output's reason, shown after its tier unless it
	// already starts with it.
	Reason string
	Tiers  []tierGroup
}

// tierGroup is one tier's metrics, in the comparator's tier order.
type tierGroup struct {
	Tier, Status, Note string
	Metrics            []metric
}

type metric struct {
	Name, Value, Threshold string
	Over                   bool
}

func newRow(i int, c report.Case) row {
	r := row{Anchor: fmt.Sprintf("case-%d", i), Case: c, Time: fmt.Sprintf("%.1fs", c.TotalSeconds), Reason: c.Reason}
	for _, o := range c.Outputs {
		if o.Reason == c.Reason {
			r.Reason = "" // the output's panel says it
		}
	}
	// The case's key metric is that of its worst output.
	var worst *report.Output
	for j := range c.Outputs {
		o := &c.Outputs[j]
		if o.Key != nil && (worst == nil || report.Worse(worst.Verdict, o.Verdict) != worst.Verdict) {
			worst = o
		}
	}
	if worst != nil {
		k := worst.Key
		r.Key = fmt.Sprintf("%s %s ≤ %s", k.Name, formatValue(k.Value), formatValue(k.Threshold))
		if k.Value > k.Threshold {
			r.Key = fmt.Sprintf("%s %s > %s", k.Name, formatValue(k.Value), formatValue(k.Threshold))
		}
	}
	return r
}

func newPanel(src imageSource, o report.Output) panel {
	p := panel{Out: o, Reason: o.Reason}
	if o.Tier != "" && strings.HasPrefix(o.Reason, o.Tier+":") {
		p.Out.Tier = "" // "structure: …" needs no "structure —" before it
	}
	// What the run judged against: its own copy, else the golden path.
	if o.GoldenCopy != "" {
		p.Expected = src.full(src.runFile(o.GoldenCopy))
	}
	if p.Expected == "" {
		p.Expected = src.full(src.goldenFile(o.Golden))
	}
	p.Actual = src.full(src.runFile(o.Candidate))
	p.Diff = src.full(src.runFile(o.Diff))
	p.Tiers = tierGroups(o)
	return p
}

// tierOrder is the comparator's tier order (comparison.md).
var tierOrder = []string{compare.TierExact, compare.TierProvenance, compare.TierColour, compare.TierStructure, compare.TierLocal}

// tierGroups returns o's metrics grouped by tier in tier order: from the
// comparator's full result when recorded (every tier, provenance and its
// note included), else from the flattened "tier.metric" maps.
func tierGroups(o report.Output) []tierGroup {
	var res compare.Result
	if len(o.Compare) > 0 && json.Unmarshal(o.Compare, &res) == nil && len(res.Tiers) > 0 {
		var out []tierGroup
		for _, t := range res.Tiers {
			g := tierGroup{Tier: t.Tier, Status: t.Status, Note: t.Note}
			for _, m := range t.Metrics {
				mm := metric{Name: m.Name, Value: formatValue(m.Value), Over: m.Over}
				if m.Gated {
					mm.Threshold = formatValue(m.Threshold)
				}
				g.Metrics = append(g.Metrics, mm)
			}
			out = append(out, g)
		}
		return out
	}
	byTier := map[string][]string{}
	for k := range o.Metrics {
		tier, _, _ := strings.Cut(k, ".")
		byTier[tier] = append(byTier[tier], k)
	}
	var out []tierGroup
	emit := func(tier string) {
		names := byTier[tier]
		if len(names) == 0 {
			return
		}
		sort.Strings(names)
		g := tierGroup{Tier: tier}
		for _, k := range names {
			v := o.Metrics[k]
			m := metric{Name: strings.TrimPrefix(k, tier+"."), Value: formatValue(v)}
			if th, ok := o.Thresholds[k]; ok {
				m.Threshold = formatValue(th)
				m.Over = v > th
			}
			g.Metrics = append(g.Metrics, m)
		}
		out = append(out, g)
		delete(byTier, tier)
	}
	for _, t := range tierOrder {
		emit(t)
	}
	rest := make([]string, 0, len(byTier))
	for t := range byTier {
		rest = append(rest, t)
	}
	sort.Strings(rest)
	for _, t := range rest {
		emit(t)
	}
	return out
}

// goldenDrift says how the golden an output was judged against differs
// from today's: "" when it is the same (or the run judged against none).
func goldenDrift(src imageSource, o report.Output) string {
	if o.Golden == "" || o.GoldenSHA256 == "" {
		return ""
	}
	b, err := os.ReadFile(src.goldenFile(o.Golden))
	if err != nil {
		where := "the report shows the run's copy"
		if o.GoldenCopy == "" {
			where = "the run kept no copy (it passed)"
		}
		return fmt.Sprintf("the golden %s judged against is missing today; %s", o.Golden, where)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) == o.GoldenSHA256 {
		return ""
	}
	if o.GoldenCopy != "" {
		return fmt.Sprintf("the golden %s changed since this run; the report shows the one the run judged against", o.Golden)
	}
	return fmt.Sprintf("the golden %s changed since this run (which passed and kept no copy): the thumbnail is today's golden", o.Golden)
}

func formatValue(v float64) string { return fmt.Sprintf("%.4g", v) }

// summarizeFingerprint picks the executor fingerprint's telling fields
// out of /system_stats: regen's fingerprint block when present, the
// server version and the first device.
func summarizeFingerprint(raw json.RawMessage) []kv {
	if len(raw) == 0 {
		return nil
	}
	var st struct {
		System struct {
			ComfyUIVersion string `json:"comfyui_version"`
			PyTorchVersion string `json:"pytorch_version"`
		} `json:"system"`
		Devices []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"devices"`
		Regen struct {
			Fingerprint map[string]any `json:"fingerprint"`
		} `json:"regen"`
	}
	if json.Unmarshal(raw, &st) != nil {
		return nil
	}
	var out []kv
	add := func(k, v string) {
		if strings.TrimSpace(v) != "" {
			out = append(out, kv{k, v})
		}
	}
	add("server", st.System.ComfyUIVersion)
	add("pytorch", st.System.PyTorchVersion)
	if len(st.Devices) > 0 {
		add("device", strings.TrimSpace(st.Devices[0].Type+" "+st.Devices[0].Name))
	}
	keys := make([]string, 0, len(st.Regen.Fingerprint))
	for k := range st.Regen.Fingerprint {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, fmt.Sprint(st.Regen.Fingerprint[k]))
	}
	return out
}
