package variants

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/regen-dev/regen/internal/atomicfile"
)

// write writes the contact sheet, distances.csv, distances.json and
// variants.html into dir, each atomically.
func (r *Result) write(dir string, images []image.Image) error {
	var sheet bytes.Buffer
	if err := png.Encode(&sheet, Sheet(r.Grid, images)); err != nil {
		return fmt.Errorf("encode contact sheet: %w", err)
	}
	c, err := r.CSV()
	if err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode distances: %w", err)
	}
	h, err := r.HTML(sheet.Bytes())
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{SheetFile, sheet.Bytes()}, {CSVFile, c}, {JSONFile, append(j, '\n')}, {HTMLFile, h}} {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// CSV is the distance matrix in long form: one row per ordered pair of
// variants (a is judged as the golden, b as the output), every metric a
// column, then the comparator's verdict. Missing distances are empty.
func (r *Result) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"a", "b"}
	for _, m := range r.Metrics {
		head = append(head, m.Name)
	}
	head = append(head, "verdict")
	_ = w.Write(head)
	for i, a := range r.Cells {
		for j, b := range r.Cells {
			rec := []string{a.Point.Name, b.Point.Name}
			for _, m := range r.Metrics {
				v := r.Distances.Values[m.Name][i][j]
				s := ""
				if v != Missing {
					s = strconv.FormatFloat(v, 'g', 6, 64)
				}
				rec = append(rec, s)
			}
			_ = w.Write(append(rec, r.Distances.Verdicts[i][j]))
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("encode distances csv: %w", err)
	}
	return buf.Bytes(), nil
}

type heatCell struct {
	Text, Title string
	Style       template.CSS
	// Start marks the first column of a sampler's block.
	Start bool
}

type heatRow struct {
	Label string
	Start bool // the first row of a sampler's block
	Cells []heatCell
}

type heatTable struct {
	Metric Metric
	// Top is the value shaded full red (larger ones too), Max the
	// largest; they differ when Top is the 95th percentile.
	Top, Max string
	// Compact tables show colour only, the value in each cell's tooltip.
	Compact bool
	Cols    []heatCell // column headers: Text and Start
	Rows    []heatRow
}

// compactAt is the number of variants above which the heat tables show
// colour only (each value in its cell's tooltip): 12 × 12 variants make
// 144 × 144 tables, whose 20,736 numbers nobody reads at once but whose
// colours show at a glance which samplers, schedulers and steps land
// together; distances.csv has every number.
const compactAt = 24

// shadeTop is the value shaded full red: the 95th percentile of the
// matrix's values (a few outliers, such as a sampler that diverges at 6
// steps, would otherwise leave every other cell white), or the largest when
// that percentile is 0.
func shadeTop(vals [][]float64) (top, largest float64) {
	var all []float64
	for _, row := range vals {
		for _, v := range row {
			if v != Missing {
				all = append(all, v)
				largest = max(largest, v)
			}
		}
	}
	if len(all) == 0 {
		return 0, 0
	}
	slices.Sort(all)
	top = all[(len(all)-1)*95/100]
	if top <= 0 {
		top = largest
	}
	return top, largest
}

// HTML is the variants page: the contact sheet (sheetPNG, embedded) and
// one heat table per metric, shaded by the value over the matrix's 95th
// percentile. The sheet and every table scroll in a box no taller than the
// window, the tables' variant names sticky on both axes; above compactAt
// variants the tables show colour only, with a line between samplers.
func (r *Result) HTML(sheetPNG []byte) ([]byte, error) {
	compact := len(r.Cells) > compactAt
	start := func(i int) bool { return i > 0 && r.Cells[i].Point.Row != r.Cells[i-1].Point.Row }
	var cols []heatCell
	for j, c := range r.Cells {
		cols = append(cols, heatCell{Text: c.Point.Name, Start: start(j)})
	}
	var tables []heatTable
	for _, m := range r.Metrics {
		vals := r.Distances.Values[m.Name]
		spread := r.Spread[m.Name]
		if spread != nil {
			// over several seeds the table shows the mean (± spread)
			vals = make([][]float64, len(spread))
			for i, row := range spread {
				vals[i] = make([]float64, len(row))
				for j, st := range row {
					vals[i][j] = st.Mean
				}
			}
		}
		top, largest := shadeTop(vals)
		t := heatTable{Metric: m, Top: strconv.FormatFloat(top, 'g', 3, 64), Max: strconv.FormatFloat(largest, 'g', 3, 64),
			Compact: compact, Cols: cols}
		for i, row := range vals {
			hr := heatRow{Label: r.Cells[i].Point.Name, Start: start(i)}
			for j, v := range row {
				c := heatCell{Title: fmt.Sprintf("%s vs %s: %s", r.Cells[i].Point.Name, r.Cells[j].Point.Name, r.Distances.Verdicts[i][j]),
					Start: start(j)}
				switch {
				case v == Missing:
					c.Text, c.Style = "–", "background:#ddd"
				default:
					c.Text = strconv.FormatFloat(v, 'g', 3, 64)
					if spread != nil {
						st := spread[i][j]
						c.Text += " ±" + strconv.FormatFloat(st.SD, 'g', 2, 64)
						c.Title += fmt.Sprintf(" (seed %d); mean over %d seeds", r.Seed, st.N)
					}
					f := 0.0
					if top > 0 {
						f = min(v/top, 1)
					}
					// White → red.
					g := int(255 - 200*f)
					c.Style = template.CSS(fmt.Sprintf("background:rgb(255,%d,%d)", g, g))
				}
				if compact {
					c.Title = c.Text + " — " + c.Title
					c.Text = ""
				}
				hr.Cells = append(hr.Cells, c)
			}
			t.Rows = append(t.Rows, hr)
		}
		tables = append(tables, t)
	}
	var buf bytes.Buffer
	err := pageTemplate.Execute(&buf, map[string]any{
		"R": r, "Tables": tables, "RankMetric": RankMetric,
		"Sheet": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(sheetPNG)),
	})
	if err != nil {
		return nil, fmt.Errorf("render variants page: %w", err)
	}
	return buf.Bytes(), nil
}

var pageTemplate = template.Must(template.New("variants").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
	"num": func(v float64) string {
		if v == Missing {
			return "–"
		}
		return strconv.FormatFloat(v, 'g', 3, 64)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>regen variants: {{.R.Workflow}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}td,th{padding:2px 6px;text-align:right;font-size:12px;border:1px solid #eee;white-space:nowrap}
th{text-align:left;font-weight:normal;color:#555}img{image-rendering:pixelated}
.scroll{overflow:auto;max-width:100%;max-height:85vh;margin-bottom:1.5em}
.sheet img{max-width:none;cursor:zoom-out}.sheet img.fit{max-width:100%;cursor:zoom-in}
tbody th{position:sticky;left:0;background:#fff}
.heat{border-collapse:separate;border-spacing:0}.heat tbody th{z-index:1}
.heat thead th{position:sticky;top:0;z-index:2;background:#fff;writing-mode:vertical-rl;transform:rotate(180deg);vertical-align:bottom}
.heat thead th:first-child{left:0;z-index:3}
.heat .s{border-left:2px solid #888}.heat tr.s>*{border-top:2px solid #888}
.compact td{min-width:11px;width:11px;height:12px;padding:0;border:0}
.compact th{font-size:10px;line-height:12px;padding:0 4px}.compact thead th{padding:4px 0;line-height:11px}
.err{color:#b00}
</style></head><body>
<h1>regen variants: {{.R.Workflow}} ({{if gt (len .R.Seeds) 1}}seeds {{range $i, $s := .R.Seeds}}{{if $i}}, {{end}}{{$s}}{{end}}: distances are means ± spread over them; the sheet shows seed {{.R.Seed}}{{else}}seed {{.R.Seed}}{{end}})</h1>
<div class="scroll sheet"><img src="{{.Sheet}}" alt="contact sheet" title="click: fit the window / full size" onclick="this.classList.toggle('fit')"></div>
{{if .R.Ranking}}<h2>Distance to {{.R.Reference}} <small>(nearest first by {{.RankMetric}}; the reference judged as the golden)</small></h2>
<div class="scroll"><table><tr><th>#</th><th>variant</th>{{range $.R.Metrics}}<th>{{.Name}}</th>{{end}}<th>verdict</th></tr>
{{range $i, $r := .R.Ranking}}<tr><td>{{inc $i}}</td><th>{{$r.Variant}}</th>{{range $.R.Metrics}}<td>{{index $r.Values .Name | num}}{{if $r.SD}} ±{{index $r.SD .Name | num}}{{end}}</td>{{end}}<td>{{$r.Verdict}}</td></tr>
{{end}}</table></div>{{end}}
{{if .R.Cross}}<h2>Across targets: {{index .R.Targets 0}} → {{index .R.Targets 1}} <small>(each variant's output on the second judged against the first{{if gt (len .R.Seeds) 1}}, mean ± spread over the seeds{{end}})</small></h2>
<div class="scroll"><table><tr><th>variant</th>{{range $.R.Metrics}}<th>{{.Name}}</th>{{end}}<th>verdict</th></tr>
{{range $r := .R.Cross}}<tr><th>{{$r.Variant}}</th>{{range $.R.Metrics}}<td>{{index $r.Values .Name | num}}{{if gt (len $.R.Seeds) 1}} ±{{index $r.SD .Name | num}}{{end}}</td>{{end}}<td title="{{range $r.Verdicts}}{{.}}; {{end}}">{{$r.Verdict}}</td></tr>
{{end}}</table></div>{{end}}
{{range .R.Cells}}{{if .Error}}<p class="err">{{.Point.Name}}: {{.Error}}</p>{{end}}{{end}}
{{range .Tables}}<h2>{{.Metric.Name}} <small>({{.Metric.Unit}}; white → red up to {{.Top}}{{if ne .Top .Max}}, the 95th percentile; max {{.Max}}{{end}}{{if .Compact}}; hover a cell for its value{{end}})</small></h2>
<div class="scroll"><table class="heat{{if .Compact}} compact{{end}}"><thead><tr><th></th>{{range .Cols}}<th{{if .Start}} class="s"{{end}}>{{.Text}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr{{if .Start}} class="s"{{end}}><th>{{.Label}}</th>{{range .Cells}}<td{{if .Start}} class="s"{{end}} style="{{.Style}}" title="{{.Title}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody></table></div>{{end}}
<p>Rows are judged as the golden, columns as the output; hover a cell for the comparator's verdict.</p>
</body></html>
`))
