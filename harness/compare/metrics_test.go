package compare

import (
	"fmt"
	"image"
	"math"
	"strings"
	"testing"
)

func TestOKLab(t *testing.T) {
	t.Parallel()
	// Reference values published with OKLab (Ottosson 2020).
	tests := []struct {
		name    string
		r, g, b float64 // linear sRGB
		want    [3]float64
	}{
		{"white", 1, 1, 1, [3]float64{1, 0, 0}},
		{"black", 0, 0, 0, [3]float64{0, 0, 0}},
		{"red", 1, 0, 0, [3]float64{0.627955, 0.224863, 0.125846}},
		{"green", 0, 1, 0, [3]float64{0.866440, -0.233888, 0.179498}},
		{"blue", 0, 0, 1, [3]float64{0.452014, -0.032457, -0.311528}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			L, A, B := linearToOKLab(tt.r, tt.g, tt.b)
			got := [3]float64{L, A, B}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-4 {
					t.Fatalf("OKLab = %v, want %v", got, tt.want)
				}
			}
			r, g, b := okLabToLinear(L, A, B)
			if math.Abs(r-tt.r)+math.Abs(g-tt.g)+math.Abs(b-tt.b) > 1e-6 {
				t.Fatalf("round trip = %v %v %v", r, g, b)
			}
		})
	}
	for i := range 256 {
		c := float64(i) / 255
		if back := linearToSRGB(srgbToLinear(c)); math.Abs(back-c) > 1e-9 {
			t.Fatalf("sRGB %d round trip = %v", i, back*255)
		}
	}
}

func TestColourStats(t *testing.T) {
	t.Parallel()
	// Left half black, right half white: the grid sees it, the global
	// mean is the average.
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			v := uint8(0)
			if x >= 4 {
				v = 255
			}
			img.Pix[4*(y*8+x)], img.Pix[4*(y*8+x)+1], img.Pix[4*(y*8+x)+2], img.Pix[4*(y*8+x)+3] = v, v, v, 255
		}
	}
	st := colourStats(toOKLab(img))
	if math.Abs(st.Global.Mean[0]-0.5) > 1e-6 || math.Abs(st.Global.Std[0]-0.5) > 1e-6 {
		t.Fatalf("global L mean %v std %v, want 0.5 0.5", st.Global.Mean[0], st.Global.Std[0])
	}
	for i, c := range st.Grid {
		want := 0.0
		if i%gridSize >= 2 {
			want = 1
		}
		if math.Abs(c.Mean[0]-want) > 1e-6 || c.Std[0] > 1e-6 {
			t.Fatalf("cell %d: L mean %v std %v, want %v 0", i, c.Mean[0], c.Std[0], want)
		}
	}
}

func TestColourCast(t *testing.T) {
	t.Parallel()
	grid := func(fn func(i int) [3]float64) []LabStats {
		g := make([]LabStats, 16)
		for i := range g {
			g[i].Mean = fn(i)
		}
		return g
	}
	base := grid(func(i int) [3]float64 {
		h := float64(i) * 2 * math.Pi / 16
		return [3]float64{0.6, 0.1 * math.Cos(h), 0.1 * math.Sin(h)}
	})
	rotated := grid(func(i int) [3]float64 {
		h := float64(i)*2*math.Pi/16 + 3*math.Pi/180
		return [3]float64{0.6, 0.1 * math.Cos(h), 0.1 * math.Sin(h)}
	})
	oneCell := grid(func(i int) [3]float64 {
		m := base[i].Mean
		if i == 5 {
			m[0] += 0.2
		}
		return m
	})
	// Hue rotation by 3° at chroma 0.1: every cell moves 0.1·θ tangentially.
	if got, want := colourCast(base, rotated), 100*2*0.1*math.Sin(1.5*math.Pi/180); math.Abs(got-want) > 1e-6 {
		t.Errorf("rotation cast = %v, want %v", got, want)
	}
	if got := colourCast(base, oneCell); got != 0 {
		t.Errorf("one changed cell gives cast %v, want 0", got)
	}
	if got := colourCast(base, base); got != 0 {
		t.Errorf("identical grids give cast %v", got)
	}
}

func TestDCTHash(t *testing.T) {
	t.Parallel()
	a := synth(31, 256, 256).quantise(nil)
	b := synth(32, 256, 256).quantise(nil)
	ha, hb := dctHash(a), dctHash(b)
	if len(ha) != HashBits/4 || strings.Trim(ha, "0") == "" {
		t.Fatalf("hash %q", ha)
	}
	if d, _ := hammingHex(ha, dctHash(a)); d != 0 {
		t.Fatalf("same image, distance %d", d)
	}
	if d, _ := hammingHex(ha, dctHash(lsbNoise(a, 1))); d > 4 {
		t.Errorf("±1 LSB noise moves %d bits", d)
	}
	if d, _ := hammingHex(ha, hb); d < 64 {
		t.Errorf("different images only %d bits apart", d)
	}
	// Tiny images still hash (the thumbnail is filled from nearest pixels).
	if h := dctHash(synth(33, 5, 3).quantise(nil)); len(h) != 64 {
		t.Errorf("tiny image hash %q", h)
	}
	if _, err := hammingHex("ab", "abcd"); err == nil {
		t.Error("hammingHex accepted different lengths")
	}
}

func TestLocalWindow(t *testing.T) {
	t.Parallel()
	a := image.NewNRGBA(image.Rect(0, 0, 80, 64))
	for i := range a.Pix {
		a.Pix[i] = 128
	}
	b := image.NewNRGBA(a.Rect)
	copy(b.Pix, a.Pix)
	// A 4×4 block changed at (30, 20) and one lone pixel elsewhere, plus a
	// one-level change that the LSB guard must ignore.
	for y := 20; y < 24; y++ {
		for x := 30; x < 34; x++ {
			b.Pix[4*(y*80+x)] = 200
		}
	}
	b.Pix[4*(2*80+2)+1] = 10
	b.Pix[4*(10*80+10)+2] = 129
	th := DefaultThresholds()
	th.Window = 8
	st := local(a, b, th)
	if st.changed != 17 {
		t.Errorf("changed %d, want 17", st.changed)
	}
	if want := 16.0 / 64; st.windowRatio != want {
		t.Errorf("window ratio %v, want %v", st.windowRatio, want)
	}
	if st.windowAt.X > 30 || st.windowAt.X+8 < 34 || st.windowAt.Y > 20 || st.windowAt.Y+8 < 24 {
		t.Errorf("window at %v does not cover the block", st.windowAt)
	}
	if want := 17.0 / 5120; st.globalRatio != want {
		t.Errorf("global ratio %v, want %v", st.globalRatio, want)
	}
	// A window larger than an eighth of the shorter side is clamped to it.
	th.Window = 100
	if st := local(a, b, th); st.windowRatio != 16.0/64 {
		t.Errorf("clamped window ratio %v", st.windowRatio)
	}
}

// TestLocalWindowSize: the window is at most an eighth of the shorter
// side, at least 1 px, and the threshold's on large images.
func TestLocalWindowSize(t *testing.T) {
	t.Parallel()
	tests := []struct{ window, w, h, want int }{
		{16, 1024, 1024, 16},
		{16, 128, 128, 16},
		{16, 100, 300, 12},
		{16, 64, 64, 8},
		{16, 7, 7, 1},
		{1, 1, 1, 1},
		{4, 512, 512, 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d@%dx%d", tt.window, tt.w, tt.h), func(t *testing.T) {
			t.Parallel()
			if got := localWindow(tt.window, tt.w, tt.h); got != tt.want {
				t.Errorf("localWindow = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDiffImage(t *testing.T) {
	t.Parallel()
	golden := synth(41, 128, 128).quantise(nil)
	got := patch(golden, 0.01, 0.5, 0.5)
	d := DiffImage(golden, got)
	if d.Bounds() != golden.Bounds() {
		t.Fatalf("bounds %v", d.Bounds())
	}
	coloured := func(img image.Image, x, y int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return r != g || g != b
	}
	if !coloured(d, 64, 64) {
		t.Error("the patch centre is not coloured")
	}
	if coloured(d, 5, 5) {
		t.Error("an unchanged corner is coloured")
	}
	same := DiffImage(golden, golden)
	for y := 0; y < 128; y += 7 {
		for x := 0; x < 128; x += 7 {
			if coloured(same, x, y) {
				t.Fatalf("identical images: pixel (%d,%d) coloured", x, y)
			}
		}
	}
	small := DiffImage(golden, synth(41, 100, 128).quantise(nil))
	if r, g, b, _ := small.At(110, 5).RGBA(); r>>8 != 255 || g != 0 || b>>8 != 255 {
		t.Errorf("outside the output: %v %v %v, want magenta", r>>8, g>>8, b>>8)
	}
}

func TestLoadThresholds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		js      string
		wantErr bool
		check   func(Thresholds) bool
	}{
		{"empty object keeps defaults", `{}`, false, func(th Thresholds) bool { return th == DefaultThresholds() }},
		{"partial override", `{"colour_cast_delta_e": 0.5, "window": 32}`, false, func(th Thresholds) bool {
			d := DefaultThresholds()
			d.ColourCast, d.Window = 0.5, 32
			return th == d
		}},
		{"unknown key", `{"colour_mean": 1}`, true, nil},
		{"negative", `{"hash_bits": -1}`, true, nil},
		{"zero window", `{"window": 0}`, true, nil},
		{"not json", `colour`, true, nil},
		{"icon_min_range 0 gates always", `{"icon_min_range": 0}`, false, func(th Thresholds) bool { return th.IconMinRange == 0 }},
		{"negative icon_min_range", `{"icon_min_range": -1}`, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th, err := LoadThresholds(strings.NewReader(tt.js))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(th) {
				t.Fatalf("thresholds %+v", th)
			}
		})
	}
}
