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
}

type heatTable struct {
	Metric Metric
	Max    string
	Rows   [][]heatCell
}

// HTML is the variants page: the contact sheet (sheetPNG, embedded) and
// one heat table per metric, shaded by the value over the matrix's
// largest.
func (r *Result) HTML(sheetPNG []byte) ([]byte, error) {
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
		top := 0.0
		for _, row := range vals {
			for _, v := range row {
				top = max(top, v)
			}
		}
		t := heatTable{Metric: m, Max: strconv.FormatFloat(top, 'g', 4, 64)}
		for i, row := range vals {
			var cells []heatCell
			for j, v := range row {
				c := heatCell{Title: fmt.Sprintf("%s vs %s: %s", r.Cells[i].Point.Name, r.Cells[j].Point.Name, r.Distances.Verdicts[i][j])}
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
						f = v / top
					}
					// White → red.
					g := int(255 - 200*f)
					c.Style = template.CSS(fmt.Sprintf("background:rgb(255,%d,%d)", g, g))
				}
				cells = append(cells, c)
			}
			t.Rows = append(t.Rows, cells)
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
.scroll{overflow:auto;max-width:100%;margin-bottom:1.5em}.sheet img{max-width:none}
thead th{writing-mode:vertical-rl;transform:rotate(180deg);vertical-align:bottom}
tbody th{position:sticky;left:0;background:#fff}
.err{color:#b00}
</style></head><body>
<h1>regen variants: {{.R.Workflow}} ({{if gt (len .R.Seeds) 1}}seeds {{range $i, $s := .R.Seeds}}{{if $i}}, {{end}}{{$s}}{{end}}: distances are means ± spread over them; the sheet shows seed {{.R.Seed}}{{else}}seed {{.R.Seed}}{{end}})</h1>
<div class="scroll sheet"><img src="{{.Sheet}}" alt="contact sheet"></div>
{{if .R.Ranking}}<h2>Distance to {{.R.Reference}} <small>(nearest first by {{.RankMetric}}; the reference judged as the golden)</small></h2>
<div class="scroll"><table><tr><th>#</th><th>variant</th>{{range $.R.Metrics}}<th>{{.Name}}</th>{{end}}<th>verdict</th></tr>
{{range $i, $r := .R.Ranking}}<tr><td>{{inc $i}}</td><th>{{$r.Variant}}</th>{{range $.R.Metrics}}<td>{{index $r.Values .Name | num}}{{if $r.SD}} ±{{index $r.SD .Name | num}}{{end}}</td>{{end}}<td>{{$r.Verdict}}</td></tr>
{{end}}</table></div>{{end}}
{{if .R.Cross}}<h2>Across targets: {{index .R.Targets 0}} → {{index .R.Targets 1}} <small>(each variant's output on the second judged against the first{{if gt (len .R.Seeds) 1}}, mean ± spread over the seeds{{end}})</small></h2>
<div class="scroll"><table><tr><th>variant</th>{{range $.R.Metrics}}<th>{{.Name}}</th>{{end}}<th>verdict</th></tr>
{{range $r := .R.Cross}}<tr><th>{{$r.Variant}}</th>{{range $.R.Metrics}}<td>{{index $r.Values .Name | num}}{{if gt (len $.R.Seeds) 1}} ±{{index $r.SD .Name | num}}{{end}}</td>{{end}}<td title="{{range $r.Verdicts}}{{.}}; {{end}}">{{$r.Verdict}}</td></tr>
{{end}}</table></div>{{end}}
{{range .R.Cells}}{{if .Error}}<p class="err">{{.Point.Name}}: {{.Error}}</p>{{end}}{{end}}
{{range .Tables}}<h2>{{.Metric.Name}} <small>({{.Metric.Unit}}; max {{.Max}})</small></h2>
<div class="scroll"><table><thead><tr><th></th>{{range $.R.Cells}}<th>{{.Point.Name}}</th>{{end}}</tr></thead><tbody>
{{range $i, $row := .Rows}}<tr><th>{{(index $.R.Cells $i).Point.Name}}</th>{{range $row}}<td style="{{.Style}}" title="{{.Title}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody></table></div>{{end}}
<p>Rows are judged as the golden, columns as the output; hover a cell for the comparator's verdict.</p>
</body></html>
`))
