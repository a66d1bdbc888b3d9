package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/regen-dev/regen/runner/internal/atomicfile"
)

// HTMLFile is the self-contained HTML report in a run directory.
const HTMLFile = "index.html"

// WriteHTML writes a self-contained HTML report of r into runDir: every
// case with its verdict and key metric, and for each output that is not an
// exact pass the expected (golden), actual (candidate) and diff heat-map
// images side by side, embedded as data URIs, with a blink toggle and every
// metric against its threshold.
func WriteHTML(runDir string, r *Run) error {
	type img struct {
		Label string
		URI   template.URL
	}
	type metric struct {
		Name             string
		Value, Threshold string
		Over             bool
	}
	type output struct {
		File, Verdict, Tier, Reason string
		Images                      []img
		Metrics                     []metric
	}
	type row struct {
		ID, Verdict, Tier, Detail string
		Class                     string
		Outputs                   []output
	}
	var rows []row
	for _, c := range r.Cases {
		rw := row{ID: c.ID, Verdict: strings.ToUpper(string(c.Verdict)), Tier: c.Tier, Detail: detail(c), Class: cssClass(c.Verdict)}
		for _, o := range c.Outputs {
			if o.Verdict == Pass {
				continue
			}
			out := output{File: o.File, Verdict: string(o.Verdict), Tier: o.Tier, Reason: o.Reason}
			for _, im := range []struct{ label, path string }{
				{"expected (golden)", o.Golden}, {"actual", join(runDir, o.Candidate)}, {"diff", join(runDir, o.Diff)},
			} {
				if uri := dataURI(im.path); uri != "" {
					out.Images = append(out.Images, img{im.label, uri})
				}
			}
			names := make([]string, 0, len(o.Metrics))
			for k := range o.Metrics {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				m := metric{Name: k, Value: fmt.Sprintf("%.4g", o.Metrics[k])}
				if th, ok := o.Thresholds[k]; ok {
					m.Threshold = fmt.Sprintf("%.4g", th)
					m.Over = o.Metrics[k] > th
				}
				out.Metrics = append(out.Metrics, m)
			}
			rw.Outputs = append(rw.Outputs, out)
		}
		rows = append(rows, rw)
	}
	r.Tally()
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, map[string]any{"Run": r, "Rows": rows}); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(runDir, HTMLFile), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

func join(dir, rel string) string {
	if rel == "" {
		return ""
	}
	return filepath.Join(dir, rel)
}

func dataURI(path string) template.URL {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	// The bytes are PNGs this run wrote or the golden store holds.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
}

func cssClass(v Verdict) string {
	switch v {
	case Pass, PassApprox:
		return "ok"
	case Skip:
		return "skip"
	case New:
		return "new"
	}
	return "bad"
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>regen run {{.Run.Started.Format "2006-01-02 15:04:05"}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}
tr.ok td.v{color:#080}tr.bad td.v{color:#b00;font-weight:bold}tr.new td.v{color:#a60}tr.skip td.v{color:#888}
.out{margin:.5em 0 1.5em 1em;padding:.5em;border-left:3px solid #ccc}
.imgs{display:flex;gap:12px;align-items:flex-start}.imgs figure{margin:0}
.imgs img,.imgs canvas{image-rendering:pixelated;max-width:384px;min-width:128px;border:1px solid #ccc}
.over{color:#b00;font-weight:bold}code{font-size:12px}
</style></head><body>
<h1>regen run</h1>
<p>{{.Run.Totals.Cases}} cases: {{.Run.Totals.Pass}} pass, {{.Run.Totals.PassApprox}} pass~,
{{.Run.Totals.Fail}} fail, {{.Run.Totals.Error}} error, {{.Run.Totals.New}} new, {{.Run.Totals.Skip}} skip
— target <code>{{.Run.Target}}</code>, class <code>{{.Run.Environment}}</code>,
commit <code>{{.Run.Git.Commit}}</code>{{if .Run.Git.Dirty}} (dirty){{end}}, {{printf "%.1f" .Run.WallSeconds}}s{{if .Run.Strict}}, strict{{end}}</p>
{{if .Run.Error}}<p class="over">run error: {{.Run.Error}}</p>{{end}}
<table><tr><th>verdict</th><th>case</th><th>tier</th><th>detail</th></tr>
{{range .Rows}}<tr class="{{.Class}}"><td class="v">{{.Verdict}}</td><td><a href="#{{.ID}}">{{.ID}}</a></td><td>{{.Tier}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
{{range .Rows}}{{if .Outputs}}<h2 id="{{.ID}}">{{.ID}} — {{.Verdict}}</h2>
{{range .Outputs}}<div class="out"><p><b>{{.File}}</b>: {{.Verdict}}{{if .Tier}} ({{.Tier}}){{end}} — {{.Reason}}</p>
<div class="imgs">{{range .Images}}<figure><img src="{{.URI}}" alt="{{.Label}}"><figcaption>{{.Label}}</figcaption></figure>{{end}}
{{if gt (len .Images) 1}}<figure><canvas class="blink"></canvas><figcaption>blink (expected ⇄ actual)</figcaption></figure>{{end}}</div>
<table>{{range .Metrics}}<tr><td><code>{{.Name}}</code></td><td{{if .Over}} class="over"{{end}}>{{.Value}}</td><td>{{if .Threshold}}≤ {{.Threshold}}{{end}}</td></tr>{{end}}</table>
</div>{{end}}{{end}}{{end}}
<script>
// Blink: alternate the first two images of each output on a canvas (no
// second copy of the image data in the page).
var tick = 0;
setInterval(function(){ tick++;
document.querySelectorAll("canvas.blink").forEach(function(c){
  var imgs = c.closest(".imgs").querySelectorAll("img"), i = imgs[tick % 2];
  if (!i || !i.naturalWidth) return;
  c.width = i.naturalWidth; c.height = i.naturalHeight;
  c.style.width = i.clientWidth + "px";
  c.getContext("2d").drawImage(i, 0, 0);
});}, 700);
</script>
</body></html>
`))
