package variants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target/local"
)

func TestSuitePlansEveryVariant(t *testing.T) {
	g, err := Expand(Axes{Samplers: []string{"euler", "heun"}, Schedulers: []string{"normal", "karras", "simple"}, Steps: []int{3}, CFG: []float64{6.5}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := suite.Load(testutil.Path(t, "fixtures", "suite.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Suite(Options{Workflow: testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), Seed: 42, Width: 64, Height: 48, Base: base}, g)
	if err != nil {
		t.Fatal(err)
	}
	cases := plan.Build(st, plan.Options{})
	if len(cases) != len(g.Points) {
		t.Fatalf("%d cases, want %d", len(cases), len(g.Points))
	}
	for i, c := range cases {
		p := g.Points[i]
		t.Run(p.Name, func(t *testing.T) {
			if c.Err != nil {
				t.Fatal(c.Err)
			}
			if want := fmt.Sprintf("txt2img-gmm[%s]/seed=42", p.Name); c.ID != want {
				t.Errorf("id %q, want %q", c.ID, want)
			}
			var sampled, latent int
			for _, id := range c.Prompt.IDs() {
				n := c.Prompt[id]
				switch n.ClassType {
				case "KSampler":
					sampled++
					in := n.Inputs
					got := fmt.Sprint(in["sampler_name"], " ", in["scheduler"], " ", in["steps"], " ", in["cfg"], " ", in["seed"])
					if want := p.Sampler + " " + p.Scheduler + " 3 6.5 42"; got != want {
						t.Errorf("KSampler inputs %q, want %q", got, want)
					}
				case "EmptyLatentImage":
					latent++
					if w, h := fmt.Sprint(n.Inputs["width"]), fmt.Sprint(n.Inputs["height"]); w != "64" || h != "48" {
						t.Errorf("latent %s×%s, want 64×48", w, h)
					}
				}
			}
			if sampled != 1 || latent != 1 {
				t.Fatalf("%d KSampler, %d EmptyLatentImage nodes", sampled, latent)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name                 string
		axes                 Axes
		imgW, imgH           int
		wantCellW, wantCellH int
	}{
		{"2×2 small images enlarged", Axes{Samplers: []string{"euler", "heun"}, Schedulers: []string{"normal", "karras"}}, 64, 64, 128, 128},
		{"4×3 at 512 scaled down", Axes{Samplers: []string{"a", "b", "c", "d"}, Schedulers: []string{"x", "y", "z"}}, 512, 512, 256, 256},
		{"groups, landscape", Axes{Samplers: []string{"euler"}, Schedulers: []string{"normal", "karras"}, Steps: []int{10, 20}}, 512, 256, 256, 128},
		{"native size", Axes{Samplers: []string{"dpmpp_2m_sde_gpu"}}, 200, 100, 200, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Expand(tt.axes)
			if err != nil {
				t.Fatal(err)
			}
			l := NewLayout(g, tt.imgW, tt.imgH)
			if l.CellW != tt.wantCellW || l.CellH != tt.wantCellH {
				t.Fatalf("cell %d×%d, want %d×%d", l.CellW, l.CellH, tt.wantCellW, tt.wantCellH)
			}
			longest := 0
			for _, s := range g.RowLabels {
				longest = max(longest, len(s))
			}
			if l.LabelW < longest*glyphW {
				t.Errorf("label column %d px narrower than %q", l.LabelW, g.RowLabels)
			}
			frame := image.Rect(0, 0, l.Width, l.Height)
			var cells []image.Rectangle
			for _, p := range g.Points {
				r := l.Cell(p.Row, p.Col)
				if r.Dx() != l.CellW || r.Dy() != l.CellH || !r.In(frame) || r.Min.X < l.LabelW || r.Min.Y < l.HeaderH {
					t.Fatalf("cell %s %v outside %v or over the labels", p.Name, r, frame)
				}
				for _, o := range cells {
					if r.Overlaps(o) {
						t.Fatalf("cell %s %v overlaps %v", p.Name, r, o)
					}
				}
				cells = append(cells, r)
			}
			last := l.Cell(g.Rows()-1, g.Cols()-1)
			if l.Width-last.Max.X > 2*pad || l.Height-last.Max.Y > 2*pad {
				t.Errorf("sheet %d×%d leaves a wide margin after the last cell %v", l.Width, l.Height, last)
			}
			sheet := Sheet(g, make([]image.Image, len(g.Points)))
			if b := sheet.Bounds(); b.Dx() != NewLayout(g, maxCell, maxCell).Width {
				t.Errorf("sheet without images %v", b)
			}
			imgs := make([]image.Image, len(g.Points))
			for i := range imgs {
				imgs[i] = image.NewNRGBA(image.Rect(0, 0, tt.imgW, tt.imgH))
			}
			if b := Sheet(g, imgs).Bounds(); b.Dx() != l.Width || b.Dy() != l.Height {
				t.Errorf("sheet %v, layout %d×%d", b, l.Width, l.Height)
			}
		})
	}
}

// blob is a w×w image with a disc of colour c at (cx, cy).
func blob(w int, cx, cy, r float64, c color.NRGBA) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, w))
	for y := range w {
		for x := range w {
			px := color.NRGBA{30, 60, 140, 255}
			if math.Hypot(float64(x)-cx, float64(y)-cy) < r {
				px = c
			}
			img.SetNRGBA(x, y, px)
		}
	}
	return img
}

func checkMatrix(t *testing.T, d Distances, n int) {
	t.Helper()
	for _, m := range Metrics {
		v := d.Values[m.Name]
		if len(v) != n {
			t.Fatalf("%s: %d rows, want %d", m.Name, len(v), n)
		}
		for i := range n {
			if v[i][i] != 0 {
				t.Errorf("%s[%d][%d] = %v, want 0", m.Name, i, i, v[i][i])
			}
			for j := range n {
				if math.Abs(v[i][j]-v[j][i]) > 1e-9*math.Max(1, math.Abs(v[i][j])) {
					t.Errorf("%s not symmetric: [%d][%d]=%v, [%d][%d]=%v", m.Name, i, j, v[i][j], j, i, v[j][i])
				}
			}
		}
	}
}

func TestMeasure(t *testing.T) {
	imgs := []image.Image{
		blob(64, 32, 32, 12, color.NRGBA{220, 30, 30, 255}),
		blob(64, 33, 32, 12, color.NRGBA{220, 30, 30, 255}),  // nudged
		blob(64, 16, 48, 20, color.NRGBA{240, 200, 20, 255}), // another picture
		nil, // no image
	}
	d, err := Measure(imgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Metrics {
		for i := range 4 {
			if d.Values[m.Name][3][i] != Missing || d.Values[m.Name][i][3] != Missing {
				t.Errorf("%s: a missing image is not Missing", m.Name)
			}
		}
		// Ignore the missing image for symmetry, then the ordering: the
		// nudge is closer than the other picture.
		if near, far := d.Values[m.Name][0][1], d.Values[m.Name][0][2]; !(near < far) {
			t.Errorf("%s: nudged %v not closer than a new picture %v", m.Name, near, far)
		}
	}
	sub := Distances{Values: map[string][][]float64{}}
	for k, v := range d.Values {
		sub.Values[k] = [][]float64{v[0][:3], v[1][:3], v[2][:3]}
	}
	checkMatrix(t, sub, 3)
	if d.Verdicts[0][0] != "pass" || !strings.HasPrefix(d.Verdicts[0][2], "fail") {
		t.Errorf("verdicts %q", d.Verdicts)
	}
}

func TestRunLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("replays on the in-process executor")
	}
	out := t.TempDir()
	base, err := suite.Load(testutil.Path(t, "fixtures", "suite.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var done []report.Case
	start := time.Now()
	res, err := Run(context.Background(), Options{
		Workflow: testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), Axes: Axes{Samplers: []string{"euler", "dpmpp_2m"}, Schedulers: []string{"normal", "karras"}, Steps: []int{4}},
		Seed: 7, Width: 64, Height: 64, Base: base, OutDir: out, Logger: testutil.Logger(),
		Target: local.New(local.Options{Models: testutil.Path(t, "fixtures", "models"), WorkDir: out, Logger: testutil.Logger()}),
		OnCase: func(c report.Case) { done = append(done, c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2×2 variants at 64×64, 4 steps: %.2fs", time.Since(start).Seconds())
	if len(done) != 4 || len(res.Cells) != 4 {
		t.Fatalf("%d cases reported, %d cells", len(done), len(res.Cells))
	}
	for _, c := range res.Cells {
		if c.Image == "" || c.Error != "" {
			t.Fatalf("%s: no image (%s)", c.Point.Name, c.Error)
		}
	}
	checkMatrix(t, res.Distances, 4)
	// Different samplers land apart: not every pair is identical.
	apart := 0
	for i := range 4 {
		for j := range 4 {
			if res.Distances.Values["hash_bits"][i][j] > 0 || res.Distances.Values["icon_y"][i][j] > 0 {
				apart++
			}
		}
	}
	if apart == 0 {
		t.Error("every variant produced the same image: the overrides did not apply")
	}
	f, err := os.Open(filepath.Join(out, SheetFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if l := NewLayout(res.Grid, 64, 64); cfg.Width != l.Width || cfg.Height != l.Height {
		t.Errorf("contact sheet %d×%d, layout %d×%d", cfg.Width, cfg.Height, l.Width, l.Height)
	}
	var decoded struct {
		Cells     []Cell    `json:"cells"`
		Distances Distances `json:"distances"`
	}
	b, err := os.ReadFile(filepath.Join(out, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	if len(decoded.Cells) != 4 || len(decoded.Distances.Values["mean_delta_e"]) != 4 {
		t.Errorf("distances.json: %d cells, %d rows", len(decoded.Cells), len(decoded.Distances.Values["mean_delta_e"]))
	}
	csvb, err := os.ReadFile(filepath.Join(out, CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(csvb), "\n"); lines != 1+16 {
		t.Errorf("distances.csv: %d lines, want 17", lines)
	}
	page, err := os.ReadFile(filepath.Join(out, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `src="data:image/png;base64,`) || strings.Count(string(page), `<table class="heat">`) != len(Metrics) {
		t.Error("variants.html lacks the sheet or a heat table")
	}
}

func TestRunIncomplete(t *testing.T) {
	if testing.Short() {
		t.Skip("replays on the in-process executor")
	}
	out := t.TempDir()
	res, err := Run(context.Background(), Options{
		Workflow: testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), Axes: Axes{Samplers: []string{"euler", "no_such_sampler"}, Steps: []int{2}},
		Width: 64, Height: 64, OutDir: out, Logger: testutil.Logger(),
		Target: local.New(local.Options{Models: testutil.Path(t, "fixtures", "models"), WorkDir: out, Logger: testutil.Logger()}),
	})
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "no_such_sampler.s2") {
		t.Fatalf("error %v, want ErrIncomplete naming the variant", err)
	}
	if res == nil || res.Cells[0].Image == "" || res.Cells[1].Image != "" || res.Cells[1].Error == "" {
		t.Fatalf("cells %+v", res.Cells)
	}
	if v := res.Distances.Values["icon_y"]; v[0][0] != 0 || v[0][1] != Missing {
		t.Errorf("icon_y %v", v)
	}
	// The files are written all the same.
	for _, f := range []string{SheetFile, CSVFile, JSONFile, HTMLFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestRunAcrossTargets: with a second target the same variants run on
// both, each under its own run directory, and Cross holds every variant's
// distance between the two; two in-process executors on the same models
// agree to the bit on every seed.
func TestRunAcrossTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("replays on the in-process executor")
	}
	out := t.TempDir()
	base, err := suite.Load(testutil.Path(t, "fixtures", "suite.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{
		Workflow: testutil.Path(t, "fixtures", "workflows", "txt2img-gmm.json"), Axes: Axes{Samplers: []string{"euler", "heun"}, Steps: []int{3}},
		Seed: 7, MoreSeeds: []uint64{8}, Width: 64, Height: 64, Base: base, OutDir: out, Logger: testutil.Logger(),
		Target:  local.New(local.Options{Models: testutil.Path(t, "fixtures", "models"), WorkDir: filepath.Join(out, "a"), Logger: testutil.Logger()}),
		Compare: local.New(local.Options{Models: testutil.Path(t, "fixtures", "models"), WorkDir: filepath.Join(out, "b"), Logger: testutil.Logger()}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cross) != 2 || len(res.Targets) != 2 {
		t.Fatalf("cross %+v, targets %v", res.Cross, res.Targets)
	}
	for _, x := range res.Cross {
		if x.Verdict != "identical on 2/2 seeds, fail on 0" || x.Values["icon_y"] != 0 {
			t.Errorf("%s across two identical executors: %s, icon_y %v", x.Variant, x.Verdict, x.Values["icon_y"])
		}
	}
	if _, err := os.Stat(filepath.Join(out, CompareDir, "results.json")); err != nil {
		t.Errorf("no run record for the second target: %v", err)
	}
	page, err := os.ReadFile(filepath.Join(out, HTMLFile))
	if err != nil || !strings.Contains(string(page), "Across targets") {
		t.Errorf("variants.html has no cross-target table (%v)", err)
	}
}
