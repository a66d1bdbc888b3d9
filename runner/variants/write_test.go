package variants

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// fakeResult is a Result over g's points with distance |i − j| + 1 off the
// diagonal (0 on it), and outlier at pair (0, 1) when > 0.
func fakeResult(g Grid, outlier float64) *Result {
	n := len(g.Points)
	r := &Result{Workflow: "w", Seed: 1, Seeds: []uint64{1}, Grid: g, Metrics: Metrics,
		Distances: Distances{Values: map[string][][]float64{}, Verdicts: make([][]string, n)}}
	for _, p := range g.Points {
		r.Cells = append(r.Cells, Cell{Point: p})
	}
	for _, m := range Metrics {
		vals := make([][]float64, n)
		for i := range vals {
			vals[i] = make([]float64, n)
			for j := range vals[i] {
				if i != j {
					vals[i][j] = float64(max(i-j, j-i) + 1)
				}
			}
		}
		if outlier > 0 {
			vals[0][1] = outlier
		}
		r.Distances.Values[m.Name] = vals
	}
	for i := range r.Distances.Verdicts {
		r.Distances.Verdicts[i] = make([]string, n)
		for j := range r.Distances.Verdicts[i] {
			r.Distances.Verdicts[i][j] = "fail"
		}
	}
	return r
}

// TestHTMLAt12x12: 12 samplers × 12 columns (4 schedulers × 3 step
// counts) make 144 variants; each heat table is then a compact colour map
// (no numbers in the cells, each value in its tooltip) with every variant
// named on both axes, sticky, in a scroll box no taller than the window,
// and a line between samplers. Two variants keep their numbers.
func TestHTMLAt12x12(t *testing.T) {
	t.Parallel()
	var samplers []string
	for i := range 12 {
		samplers = append(samplers, fmt.Sprintf("sampler%02d", i))
	}
	big, err := Expand(Axes{Samplers: samplers, Schedulers: []string{"normal", "karras", "exponential", "simple"}, Steps: []int{6, 12, 20}})
	if err != nil {
		t.Fatal(err)
	}
	small, err := Expand(Axes{Samplers: []string{"euler", "heun"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		grid    Grid
		compact bool
	}{
		{"12x12", big, true},
		{"2x1", small, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := fakeResult(tc.grid, 0).HTML(nil)
			if err != nil {
				t.Fatal(err)
			}
			s := string(page)
			if got := strings.Count(s, `<table class="heat compact">`); tc.compact && got != len(Metrics) {
				t.Errorf("%d compact heat tables, want %d", got, len(Metrics))
			}
			if got := strings.Count(s, `<table class="heat">`); !tc.compact && got != len(Metrics) {
				t.Errorf("%d heat tables with numbers, want %d", got, len(Metrics))
			}
			for _, css := range []string{"max-height:85vh", ".heat thead th{position:sticky;top:0", "tbody th{position:sticky;left:0"} {
				if !strings.Contains(s, css) {
					t.Errorf("the page's style lacks %q", css)
				}
			}
			// Every variant names a row and a column of every table.
			for _, p := range tc.grid.Points {
				if got, want := strings.Count(s, "<th>"+p.Name+"</th>")+strings.Count(s, `<th class="s">`+p.Name+"</th>"), 2*len(Metrics); got != want {
					t.Errorf("%s labels %d rows and columns, want %d", p.Name, got, want)
				}
			}
			// The cell of rows 0 and 1: distance 2.
			cell := regexp.MustCompile(`<td(?: class="s")? style="[^"]*" title="([^"]*)">([^<]*)</td>`)
			var found bool
			for _, m := range cell.FindAllStringSubmatch(s, -1) {
				if !strings.Contains(m[1], tc.grid.Points[0].Name+" vs "+tc.grid.Points[1].Name+":") {
					continue
				}
				found = true
				if tc.compact && (m[2] != "" || !strings.HasPrefix(m[1], "2 — ")) {
					t.Errorf("compact cell text %q title %q, want no text and the value 2 in the title", m[2], m[1])
				}
				if !tc.compact && m[2] != "2" {
					t.Errorf("cell text %q, want the distance", m[2])
				}
				break
			}
			if !found {
				t.Error("no cell for the first pair")
			}
			// A line between samplers: a column and a row start per
			// sampler after the first, in every table.
			wantStarts := tc.grid.Rows() - 1
			if got := strings.Count(s, `<th class="s">`); got != wantStarts*len(Metrics) {
				t.Errorf("%d sampler-start column headers, want %d", got, wantStarts*len(Metrics))
			}
			if got := strings.Count(s, `<tr class="s">`); got != wantStarts*len(Metrics) {
				t.Errorf("%d sampler-start rows, want %d", got, wantStarts*len(Metrics))
			}
		})
	}
}

// TestShadeTop: one outlier (a sampler diverging at 6 steps) sets the
// table's maximum but not its shading, which saturates at the 95th
// percentile.
func TestShadeTop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		vals         [][]float64
		top, largest float64
	}{
		{"empty", nil, 0, 0},
		{"missing only", [][]float64{{Missing}}, 0, 0},
		{"outlier", func() [][]float64 {
			v := make([][]float64, 10)
			for i := range v {
				v[i] = make([]float64, 10)
				for j := range v[i] {
					v[i][j] = float64(i*10 + j) // 0…99
				}
			}
			v[9][9] = 1e6
			return v
		}(), 94, 1e6},
		{"mostly zero", [][]float64{{0, 0, 0}, {0, 0, 0}, {0, 0, 5}}, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			top, largest := shadeTop(tc.vals)
			if top != tc.top || largest != tc.largest {
				t.Errorf("shadeTop = %v, %v, want %v, %v", top, largest, tc.top, tc.largest)
			}
		})
	}
	page, err := fakeResult(Grid{Points: []Point{{Name: "a"}, {Name: "b"}, {Name: "c"}}}, 1e6).HTML(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "white → red up to 3, the 95th percentile; max 1e&#43;06") {
		t.Errorf("the heading does not give the shading's top and the maximum:\n%s", page)
	}
	// c vs a (distance 3) is full red; b vs a (2) is not.
	if !strings.Contains(string(page), `<td style="background:rgb(255,55,55)" title="c vs a: fail">3</td>`) ||
		!strings.Contains(string(page), `<td style="background:rgb(255,121,121)" title="b vs a: fail">2</td>`) {
		t.Errorf("shading not relative to the 95th percentile:\n%s", page)
	}
}
