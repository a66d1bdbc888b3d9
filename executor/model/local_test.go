package model

import (
	"math"
	"testing"

	"github.com/regen-dev/regen/executor/backend/cpu"
)

func TestLocalCells(t *testing.T) {
	t.Parallel()
	m := &Model{cfg: &Config{Local: []LocalLevel{{MinSigma: 6, Cells: 0}, {MinSigma: 3, Cells: 8}, {MinSigma: 1, Cells: 16}}}}
	for _, tc := range []struct {
		sigma float64
		want  int
	}{{14.6, 0}, {6, 0}, {5.9, 8}, {3, 8}, {2, 16}, {1, 16}, {0.5, 16}, {0, 16}} {
		if got := m.localCells(tc.sigma); got != tc.want {
			t.Errorf("localCells(%v) = %d, want %d", tc.sigma, got, tc.want)
		}
	}
	if got := (&Model{cfg: &Config{}}).localCells(0.1); got != 0 {
		t.Errorf("without a local schedule: %d cells, want 0 (global)", got)
	}
}

func TestCellAxis(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, g int }{{16, 4}, {16, 16}, {17, 5}, {64, 8}, {8, 2}} {
		a := cellAxis(tc.n, tc.g)
		for y, c := range a {
			if c.cell != y*tc.g/tc.n && (c.cell+1)*tc.n/tc.g <= y {
				t.Errorf("n=%d g=%d: row %d in cell %d", tc.n, tc.g, y, c.cell)
			}
			if c.i0 < 0 || c.i1 >= tc.g || c.i1 < c.i0 || c.i1 > c.i0+1 || c.t < 0 || c.t >= 1 {
				t.Errorf("n=%d g=%d: row %d weights %+v", tc.n, tc.g, y, c)
			}
			if c.i0 != c.cell && c.i1 != c.cell {
				t.Errorf("n=%d g=%d: row %d of cell %d blends cells %d and %d", tc.n, tc.g, y, c.cell, c.i0, c.i1)
			}
		}
		if a[0].i0 != 0 || a[0].t != 0 || a[tc.n-1].i0 != tc.g-1 {
			t.Errorf("n=%d g=%d: the borders blend: %+v … %+v", tc.n, tc.g, a[0], a[tc.n-1])
		}
	}
}

// TestLocalMeanPlacesEachPiece: one exemplar holding two blobs, and the
// same shifted two latent pixels right; x has the left blob unshifted and
// the right one shifted. The global posterior is a tie (it would average
// both positions, 0.5 everywhere); the local one puts each blob where x
// has it.
func TestLocalMeanPlacesEachPiece(t *testing.T) {
	t.Parallel()
	const C, h, w = 4, 16, 16
	lat := make([]float32, C*h*w)
	x := make([]float32, C*h*w)
	for ch := 0; ch < C; ch++ {
		lat[(ch*h+4)*w+3], lat[(ch*h+4)*w+11] = 1, 1
		x[(ch*h+4)*w+3], x[(ch*h+4)*w+13] = 1, 1
	}
	cfg := &Config{Mode: ModeGMM, LatentChannels: C, Schedule: SD1, ComponentWidth: 0.05,
		Shifts: [][2]float64{{0, 0.125}}, Local: []LocalLevel{{MinSigma: 0, Cells: 4}}}
	m := newModel(cfg, cpu.New(), &exemplarSet{K: 1, C: C, H: h, W: w, lat: lat, keys: make([]float32, 1), logw: make([]float32, 1)}, "")
	s := m.at(h, w)
	if s.n != 2 || s.rough == nil {
		t.Fatalf("%d components, rough %v: want 2 and a rough copy", s.n, s.rough != nil)
	}
	out := make([]float32, C*h*w)
	v := 0.05*0.05 + 0.1*0.1
	m.localMean(out, x, s, 4, m.globalLog(x, s, make([]float32, s.n), 0.05*0.05, v), v)
	for _, p := range []struct {
		col  int
		want float32
	}{{3, 1}, {5, 0}, {11, 0}, {13, 1}} {
		for ch := 0; ch < C; ch++ {
			if got := out[(ch*h+4)*w+p.col]; math.Abs(float64(got-p.want)) > 0.05 {
				t.Errorf("channel %d, row 4, column %d: %v, want %v", ch, p.col, got, p.want)
			}
		}
	}
	again := make([]float32, C*h*w)
	m.localMean(again, x, s, 4, m.globalLog(x, s, make([]float32, s.n), 0.05*0.05, v), v)
	for i := range out {
		if math.Float32bits(out[i]) != math.Float32bits(again[i]) {
			t.Fatalf("value %d: %v then %v", i, out[i], again[i])
		}
	}
}

// TestLocalCellsAtLeastTwoPixels: on an 8×8 latent a request for 16 or 8
// cells per side gets 4 (cells of 2×2 latent pixels: one-pixel cells place
// neighbouring pieces at different shifts, the ghosting of issue 13), and
// 4 cells stay 4.
func TestLocalCellsAtLeastTwoPixels(t *testing.T) {
	t.Parallel()
	const C, h, w = 4, 8, 8
	lat := gauss(5, C*h*w)
	cfg := &Config{Mode: ModeGMM, LatentChannels: C, Schedule: SD1, ComponentWidth: 0.05,
		Shifts: [][2]float64{{0, 0.125}, {0.125, 0}}, Local: []LocalLevel{{MinSigma: 0, Cells: 4}}}
	m := newModel(cfg, cpu.New(), &exemplarSet{K: 1, C: C, H: h, W: w, lat: lat, keys: make([]float32, 1), logw: make([]float32, 1)}, "")
	s := m.at(h, w)
	x := gauss(6, C*h*w)
	const s2, v = 0.05 * 0.05, 0.05*0.05 + 0.3*0.3
	mean := func(g int) []float32 {
		out := make([]float32, C*h*w)
		m.localMean(out, x, s, g, m.globalLog(x, s, make([]float32, s.n), s2, v), v)
		return out
	}
	want := mean(4)
	if two := mean(2); equalBits(two, want) {
		t.Fatal("2 and 4 cells give the same mean: the test cannot tell cell counts apart")
	}
	for _, g := range []int{8, 16} {
		if !equalBits(mean(g), want) {
			t.Errorf("%d cells on an 8×8 latent: not the 4-cell mean", g)
		}
	}
}

func equalBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}
