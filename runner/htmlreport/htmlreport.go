package htmlreport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"

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
	p := page{Run: r, Fingerprint: summarizeFingerprint(r.Fingerprint)}
	if len(r.Fingerprint) > 0 {
		var pretty bytes.Buffer
		if json.Indent(&pretty, r.Fingerprint, "", "  ") == nil {
			p.FingerprintJSON = pretty.String()
		}
	}
	counted := *r
	counted.Tally()
	p.Totals = counted.Totals
	for i, c := range r.Cases {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("render html report: %w", err)
		}
		row := newRow(i, c)
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
	Totals          report.Totals
	Fingerprint     []kv
	FingerprintJSON string
	Rows            []row
	Panels          []row
	Passing         []row
}

type kv struct{ Key, Value string }

type image2 struct {
	Label string
	URI   template.URL
}

type row struct {
	Anchor  string
	Case    report.Case
	Key     string
	Time    string
	Outputs []panel
	Thumbs  []image2
}

type panel struct {
	Out                    report.Output
	Expected, Actual, Diff template.URL
	Metrics                []metric
}

type metric struct {
	Name, Value, Threshold string
	Over                   bool
}

func newRow(i int, c report.Case) row {
	r := row{Anchor: fmt.Sprintf("case-%d", i), Case: c, Time: fmt.Sprintf("%.1fs", c.TotalSeconds)}
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
	p := panel{Out: o}
	p.Expected = src.full(src.goldenFile(o.Golden))
	p.Actual = src.full(src.runFile(o.Candidate))
	p.Diff = src.full(src.runFile(o.Diff))
	names := make([]string, 0, len(o.Metrics))
	for k := range o.Metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := o.Metrics[k]
		m := metric{Name: k, Value: formatValue(v)}
		if th, ok := o.Thresholds[k]; ok {
			m.Threshold = formatValue(th)
			m.Over = v > th
		}
		p.Metrics = append(p.Metrics, m)
	}
	return p
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
