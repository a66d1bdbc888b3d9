package compare

import (
	"fmt"
	"image"
	"math"
	"strings"
	"testing"
)

// flatImage draws a flat or near-flat test image: each channel goes
// linearly from lo to hi across x (lo == hi: a solid colour).
func flatImage(w, h int, lo, hi [3]float64) *floatImage {
	img := &floatImage{w: w, h: h, pix: make([]float64, 3*w*h)}
	for y := range h {
		for x := range w {
			u := float64(x) / float64(w-1)
			for ch := range 3 {
				img.pix[3*(y*w+x)+ch] = lo[ch] + u*(hi[ch]-lo[ch])
			}
		}
	}
	return img
}

// flatGoldens are the solid-colour workflow's kind of output: nothing for
// images4.Icon to stretch but noise.
func flatGoldens() []struct {
	name string
	f    *floatImage
} {
	return []struct {
		name string
		f    *floatImage
	}{
		{"grey", flatImage(256, 256, [3]float64{0.5, 0.5, 0.5}, [3]float64{0.5, 0.5, 0.5})},
		{"orange", flatImage(256, 256, [3]float64{0.8, 0.35, 0.2}, [3]float64{0.8, 0.35, 0.2})},
		{"dark", flatImage(256, 256, [3]float64{0.06, 0.05, 0.08}, [3]float64{0.06, 0.05, 0.08})},
		// A very faint gradient: about 5 levels across the width.
		{"faint gradient", flatImage(256, 256, [3]float64{0.40, 0.50, 0.46}, [3]float64{0.42, 0.51, 0.44})},
	}
}

// addSquare adds delta levels to every channel of a side×side square
// centred at (cx, cy), fractions of the size.
func addSquare(src *image.NRGBA, side int, cx, cy, delta float64) *image.NRGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	x0, y0 := int(cx*float64(w))-side/2, int(cy*float64(h))-side/2
	out := image.NewNRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			for ch := range 3 {
				i := 4*(y*w+x) + ch
				out.Pix[i] = clamp8(float64(src.Pix[i]) + delta)
			}
		}
	}
	return out
}

// tint adds d (levels, per channel) to a square of the given area
// fraction centred at (cx, cy): a patch of another colour.
func tint(src *image.NRGBA, area, cx, cy float64, d [3]float64) *image.NRGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	side := int(math.Round(math.Sqrt(area * float64(w*h))))
	x0, y0 := int(cx*float64(w))-side/2, int(cy*float64(h))-side/2
	out := image.NewNRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			for ch := range 3 {
				i := 4*(y*w+x) + ch
				out.Pix[i] = clamp8(float64(src.Pix[i]) + d[ch])
			}
		}
	}
	return out
}

func flatEdits() []edit {
	all := [3]bool{true, true, true}
	return []edit{
		{"identical", "=", func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return g }},
		{"jitter ±0.5 LSB float", "", func(f *floatImage, _ *image.NRGBA, s uint64) *image.NRGBA { return jitter(f, s) }},
		{"noise ±1 LSB", "", func(_ *floatImage, g *image.NRGBA, s uint64) *image.NRGBA { return lsbNoise(g, s) }},
		{"+1 level 6×6 patch", "", func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return addSquare(g, 6, 0.62, 0.3, 1) }},
		{"-1 level 6×6 patch", "", func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return addSquare(g, 6, 0.3, 0.7, -1) }},
		{"patch 0.5% greener", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA {
			return tint(g, 0.005, 0.62, 0.3, [3]float64{-10, 24, -10})
		}},
		{"patch 0.5% +12 levels", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA {
			return addSquare(g, 18, 0.62, 0.3, 12)
		}},
		{"cast +4R −4B", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA {
			return mapPixels(g, func(r, gr, b float64) (float64, float64, float64) { return r + 4, gr, b - 4 })
		}},
		{"gain RGB +4%", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return gain(g, 0.04, all) }},
	}
}

// TestFlatEdits extends the calibration table to flat and near-flat
// images, where images4.Icon's stretch turns noise into structure: noise
// and 1-level changes must pass~, real changes fail at their tier.
func TestFlatEdits(t *testing.T) {
	t.Parallel()
	for _, fg := range flatGoldens() {
		golden := fg.f.quantise(nil)
		for _, e := range flatEdits() {
			t.Run(fmt.Sprintf("%s/%s", fg.name, e.name), func(t *testing.T) {
				t.Parallel()
				got := e.apply(fg.f, golden, 9)
				r := Compare(Input{Image: golden}, Input{Image: got}, Options{})
				t.Logf("%s %s:%s", r.Verdict, r.FailedTier, keyMetrics(r))
				checkVerdict(t, r, e.tier)
			})
		}
	}
}

// TestIconRangeGate checks the gate itself: on a flat image the stretched
// icon metrics blow up under noise (which is why they are not gated), on
// the synthetic images every channel spans enough to stay gated.
func TestIconRangeGate(t *testing.T) {
	t.Parallel()
	def := DefaultThresholds()
	always := def
	always.IconMinRange = 0
	t.Run("flat", func(t *testing.T) {
		t.Parallel()
		for _, fg := range flatGoldens() {
			golden := fg.f.quantise(nil)
			got := addSquare(golden, 6, 0.62, 0.3, 1)
			before := Compare(Input{Image: golden}, Input{Image: got}, Options{Thresholds: &always})
			after := Compare(Input{Image: golden}, Input{Image: got}, Options{})
			st := after.Tier(TierStructure)
			t.Logf("%s: gated always: %s %s:%s | default: %s:%s; note %q", fg.name,
				before.Verdict, before.FailedTier, structMetrics(before), after.Verdict, structMetrics(after), st.Note)
			if after.Verdict != PassApprox {
				t.Errorf("%s: verdict %s (%s), want pass~", fg.name, after.Verdict, after.Reason)
			}
			if !strings.Contains(st.Note, "not gated") {
				t.Errorf("%s: structure note %q does not say what was not gated", fg.name, st.Note)
			}
			for _, m := range st.Metrics {
				if m.Name == "hash_bits" || strings.HasPrefix(m.Name, "icon_") && !strings.HasPrefix(m.Name, "icon_range") {
					if m.Gated {
						t.Errorf("%s: %s gated on a flat image", fg.name, m.Name)
					}
					if m.Threshold == 0 {
						t.Errorf("%s: %s lost its threshold", fg.name, m.Name)
					}
				}
			}
		}
	})
	t.Run("flat, gated always, trips", func(t *testing.T) {
		t.Parallel()
		// The false alarm the gate exists for: without it, a 1-level
		// patch on a solid colour fails structure.
		fg := flatGoldens()[1]
		golden := fg.f.quantise(nil)
		r := Compare(Input{Image: golden}, Input{Image: addSquare(golden, 6, 0.62, 0.3, 1)}, Options{Thresholds: &always})
		if r.Verdict != Fail || r.FailedTier != FailStructure {
			t.Fatalf("verdict %s/%q, want the structure false alarm with icon_min_range 0", r.Verdict, r.FailedTier)
		}
	})
	t.Run("synthetic images stay gated", func(t *testing.T) {
		t.Parallel()
		for _, seed := range testSeeds {
			golden := synth(seed, 256, 256).quantise(nil)
			rng := iconRange(mustRecord(t, golden).IconRaw.IconT)
			t.Logf("seed %d: icon range Y/Cb/Cr %.1f/%.1f/%.1f levels", seed, rng[0], rng[1], rng[2])
			for c, v := range rng {
				if v < 2*def.IconMinRange {
					t.Errorf("seed %d channel %d: range %.1f is within 2× of icon_min_range %g", seed, c, v, def.IconMinRange)
				}
			}
		}
	})
}

func structMetrics(r Result) string {
	var b strings.Builder
	if st := r.Tier(TierStructure); st != nil {
		for _, m := range st.Metrics {
			fmt.Fprintf(&b, " %s=%s", m.Name, formatValue(round2(m.Value)))
		}
	}
	return b.String()
}

func mustRecord(t *testing.T, img image.Image) *Record {
	t.Helper()
	rec, err := NewRecord(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
