package variants

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	tests := []struct {
		name      string
		axes      Axes
		wantNames []string
		wantRows  []string
		wantCols  []string
		wantGroup []string
		wantErr   string
	}{
		{
			name:      "samplers × schedulers",
			axes:      Axes{Samplers: []string{"euler", "dpmpp_2m"}, Schedulers: []string{"normal", "karras"}},
			wantNames: []string{"euler.normal", "euler.karras", "dpmpp_2m.normal", "dpmpp_2m.karras"},
			wantRows:  []string{"euler", "dpmpp_2m"},
			wantCols:  []string{"normal", "karras"},
			wantGroup: []string{""},
		},
		{
			name:      "steps × cfg groups",
			axes:      Axes{Samplers: []string{"euler"}, Schedulers: []string{"normal", "karras"}, Steps: []int{10, 20}, CFG: []float64{7, 7.5}},
			wantNames: []string{"euler.normal.s10.cfg7", "euler.karras.s10.cfg7", "euler.normal.s10.cfg7.5", "euler.karras.s10.cfg7.5", "euler.normal.s20.cfg7", "euler.karras.s20.cfg7", "euler.normal.s20.cfg7.5", "euler.karras.s20.cfg7.5"},
			wantRows:  []string{"euler"},
			wantCols:  []string{"normal", "karras", "normal", "karras", "normal", "karras", "normal", "karras"},
			wantGroup: []string{"steps 10, cfg 7", "steps 10, cfg 7.5", "steps 20, cfg 7", "steps 20, cfg 7.5"},
		},
		{
			name:      "keep the workflow's scheduler",
			axes:      Axes{Samplers: []string{"euler", "heun", "lms"}},
			wantNames: []string{"euler", "heun", "lms"},
			wantRows:  []string{"euler", "heun", "lms"},
			wantCols:  []string{"(workflow scheduler)"},
			wantGroup: []string{""},
		},
		{
			name:      "keep everything",
			axes:      Axes{},
			wantNames: []string{"default"},
			wantRows:  []string{"(workflow sampler)"},
			wantCols:  []string{"(workflow scheduler)"},
			wantGroup: []string{""},
		},
		{name: "duplicate sampler", axes: Axes{Samplers: []string{"euler", "euler"}}, wantErr: "listed twice"},
		{name: "bad scheduler name", axes: Axes{Schedulers: []string{"a/b"}}, wantErr: `scheduler "a/b"`},
		{name: "zero steps", axes: Axes{Steps: []int{0}}, wantErr: "steps 0"},
		{name: "duplicate cfg", axes: Axes{CFG: []float64{7, 7}}, wantErr: "cfg 7 listed twice"},
		{name: "negative cfg", axes: Axes{CFG: []float64{-1}}, wantErr: "cfg -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Expand(tt.axes)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range g.Points {
				names = append(names, p.Name)
			}
			if !reflect.DeepEqual(names, tt.wantNames) {
				t.Errorf("names %q, want %q", names, tt.wantNames)
			}
			if !reflect.DeepEqual(g.RowLabels, tt.wantRows) || !reflect.DeepEqual(g.ColLabels, tt.wantCols) || !reflect.DeepEqual(g.GroupLabels, tt.wantGroup) {
				t.Errorf("labels rows %q cols %q groups %q", g.RowLabels, g.ColLabels, g.GroupLabels)
			}
			// Every cell is taken exactly once, and a point's position
			// agrees with its values.
			seen := map[[2]int]bool{}
			for _, p := range g.Points {
				at := [2]int{p.Row, p.Col}
				if seen[at] || p.Row >= g.Rows() || p.Col >= g.Cols() {
					t.Fatalf("point %s at %v: taken twice or outside %d×%d", p.Name, at, g.Rows(), g.Cols())
				}
				seen[at] = true
				if p.Sampler != "" && g.RowLabels[p.Row] != p.Sampler {
					t.Errorf("%s in row %q", p.Name, g.RowLabels[p.Row])
				}
				if p.Scheduler != "" && g.ColLabels[p.Col] != p.Scheduler {
					t.Errorf("%s in column %q", p.Name, g.ColLabels[p.Col])
				}
				if p.Group != p.Col/g.Schedulers {
					t.Errorf("%s: group %d, column %d", p.Name, p.Group, p.Col)
				}
			}
			if len(seen) != g.Rows()*g.Cols() {
				t.Errorf("%d cells filled of %d×%d", len(seen), g.Rows(), g.Cols())
			}
		})
	}
}
