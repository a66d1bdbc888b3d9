package compare

import (
	"encoding/json"
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// withAlpha returns a copy of src whose alpha is fn(x, y, old alpha).
func withAlpha(src *image.NRGBA, fn func(x, y int, a uint8) uint8) *image.NRGBA {
	out := image.NewNRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	w := src.Rect.Dx()
	for i := 3; i < len(out.Pix); i += 4 {
		p := i / 4
		out.Pix[i] = fn(p%w, p/w, src.Pix[i])
	}
	return out
}

// translucent is a golden with an alpha ramp from 120 to 250 across x.
func translucent(seed uint64) *image.NRGBA {
	g := synth(seed, 256, 256).quantise(nil)
	return withAlpha(g, func(x, _ int, _ uint8) uint8 { return uint8(120 + x/2) })
}

// alphaNoise adds an independent -1, 0 or +1 to every pixel's alpha.
func alphaNoise(src *image.NRGBA, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 3))
	return withAlpha(src, func(_, _ int, a uint8) uint8 { return clamp8(float64(a) + float64(rng.IntN(3)-1)) })
}

// alphaHole makes a square of the given area fraction, centred at (cx,
// cy), fully transparent; the colour stays.
func alphaHole(src *image.NRGBA, area, cx, cy float64) *image.NRGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	side := int(float64(w) * sqrt(area*float64(h)/float64(w)))
	x0, y0 := int(cx*float64(w))-side/2, int(cy*float64(h))-side/2
	return withAlpha(src, func(x, y int, a uint8) uint8 {
		if x >= x0 && x < x0+side && y >= y0 && y < y0+side {
			return 0
		}
		return a
	})
}

func sqrt(v float64) float64 {
	r := v
	for range 40 {
		r = (r + v/r) / 2
	}
	return r
}

// TestAlphaEdits: alpha is judged as its own channel. An alpha-only
// change trips colour (a global fade) or local (a hole) and the reason
// names alpha; alpha noise passes.
func TestAlphaEdits(t *testing.T) {
	t.Parallel()
	type goldenFn func(seed uint64) *image.NRGBA
	opaque := func(seed uint64) *image.NRGBA { return synth(seed, 256, 256).quantise(nil) }
	tests := []struct {
		name   string
		golden goldenFn
		edit   func(g *image.NRGBA, seed uint64) *image.NRGBA
		tier   string // "" pass~
		metric string // the metric the reason names, when failing
	}{
		{"opaque → alpha 250 (2 % fade)", opaque, func(g *image.NRGBA, _ uint64) *image.NRGBA {
			return withAlpha(g, func(_, _ int, _ uint8) uint8 { return 250 })
		}, FailColour, "alpha_mean_delta|bias_z"},
		// A large fade also moves the premultiplied icons: structure may
		// be primary, and its reason says that alpha changed.
		{"opaque → alpha 229 (10 % fade)", opaque, func(g *image.NRGBA, _ uint64) *image.NRGBA {
			return withAlpha(g, func(_, _ int, _ uint8) uint8 { return 229 })
		}, FailColour + "|" + FailStructure, "alpha_mean_delta|bias_z"},
		{"translucent, alpha ×0.97", translucent, func(g *image.NRGBA, _ uint64) *image.NRGBA {
			return withAlpha(g, func(_, _ int, a uint8) uint8 { return clamp8(float64(a)*0.97 + 0.5) })
		}, FailColour, "alpha_mean_delta|bias_z"},
		{"opaque, hole 0.5 %", opaque, func(g *image.NRGBA, _ uint64) *image.NRGBA { return alphaHole(g, 0.005, 0.62, 0.3) }, FailLocal, "window_ratio"},
		{"translucent, hole 0.5 %", translucent, func(g *image.NRGBA, _ uint64) *image.NRGBA { return alphaHole(g, 0.005, 0.62, 0.3) }, FailLocal, "window_ratio"},
		{"translucent, alpha noise ±1", translucent, alphaNoise, "", ""},
		// One level of alpha everywhere, under ±1 level of noise: too
		// small for the alpha means, systematic for the bias.
		{"opaque → alpha 254 ±1", opaque, func(g *image.NRGBA, s uint64) *image.NRGBA {
			return alphaNoise(withAlpha(g, func(_, _ int, _ uint8) uint8 { return 254 }), s)
		}, FailColour, "bias_z"},
		{"translucent, colour noise ±1", translucent, lsbNoise, "", ""},
	}
	for _, seed := range testSeeds {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("seed%d/%s", seed, tt.name), func(t *testing.T) {
				t.Parallel()
				golden := tt.golden(seed)
				got := tt.edit(golden, seed)
				r := Compare(Input{Image: golden}, Input{Image: got}, Options{})
				t.Logf("%s %s: %s", r.Verdict, r.FailedTier, r.Reason)
				if tt.tier == "" {
					if r.Verdict != PassApprox {
						t.Fatalf("verdict %s (%s), want pass~", r.Verdict, r.Reason)
					}
					return
				}
				primaries := strings.Split(tt.tier, "|")
				if r.Verdict != Fail || !slices.Contains(primaries, r.FailedTier) {
					t.Fatalf("verdict %s/%q (%s), want fail/%q", r.Verdict, r.FailedTier, r.Reason, tt.tier)
				}
				if !strings.Contains(r.Reason, "alpha") {
					t.Errorf("reason %q does not name alpha", r.Reason)
				}
				// The tier that measures the alpha change trips on the
				// named metric, whichever tier is primary.
				named := false
				for _, m := range strings.Split(tt.metric, "|") {
					named = named || strings.HasPrefix(r.Reason, primaries[0]+": "+m+" ")
				}
				if r.FailedTier == primaries[0] && !named {
					t.Errorf("reason %q does not name %s", r.Reason, tt.metric)
				}
				if !slices.Contains(r.Tripped, primaries[0]) {
					t.Errorf("tripped %v, want %s among them", r.Tripped, primaries[0])
				}
			})
		}
	}
}

// TestAlphaInEveryTier: the colour tier carries alpha metrics and the
// local tier counts alpha-changed pixels exactly when alpha is in play.
func TestAlphaInEveryTier(t *testing.T) {
	t.Parallel()
	opaque := synth(4, 64, 64).quantise(nil)
	faded := withAlpha(opaque, func(_, _ int, _ uint8) uint8 { return 200 })
	hole := alphaHole(opaque, 0.01, 0.5, 0.5)
	tests := []struct {
		name          string
		golden, got   *image.NRGBA
		alphaMetrics  bool
		alphaChanged  float64 // local's alpha_changed_pixels; -1 absent
		colourTripped bool
	}{
		{"opaque both sides: no alpha metrics", opaque, lsbNoise(opaque, 4), false, -1, false},
		{"faded", opaque, faded, true, 64 * 64, true},
		{"hole", opaque, hole, true, 36, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Compare(Input{Image: tt.golden}, Input{Image: tt.got}, Options{})
			m := r.Metric(TierColour, "alpha_mean_delta")
			if (m != nil) != tt.alphaMetrics {
				t.Fatalf("colour alpha_mean_delta %+v, want present %v", m, tt.alphaMetrics)
			}
			if m != nil && m.Over != tt.colourTripped {
				t.Errorf("alpha_mean_delta %+v, want over %v", m, tt.colourTripped)
			}
			got := -1.0
			if m := r.Metric(TierLocal, "alpha_changed_pixels"); m != nil {
				got = m.Value
			}
			if got != tt.alphaChanged {
				t.Errorf("alpha_changed_pixels %v, want %v", got, tt.alphaChanged)
			}
		})
	}
}

// TestAlphaFromRecords: a record carries the level statistics, so alpha is
// judged from a record alone; a record written before they existed is
// completed from its pixels when they are given, and says alpha was not
// judged when they are not.
func TestAlphaFromRecords(t *testing.T) {
	t.Parallel()
	golden := synth(31, 96, 96).quantise(nil)
	got := withAlpha(golden, func(_, _ int, _ uint8) uint8 { return 240 })
	rec, err := NewRecord(golden, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Colour.Levels == nil || !rec.Colour.Levels.opaque() {
		t.Fatalf("levels %+v, want an opaque image's", rec.Colour.Levels)
	}
	js, err := rec.MarshalIndent()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["colour"].(map[string]any), "levels")
	legacyJS, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := ReadRecord(strings.NewReader(string(legacyJS)))
	if err != nil {
		t.Fatalf("a record without levels does not load: %v", err)
	}
	tests := []struct {
		name    string
		golden  Input
		verdict Verdict
		note    string
	}{
		{"record", Input{Record: rec}, Fail, ""},
		{"legacy record and pixels", Input{Record: legacy, Image: golden}, Fail, ""},
		{"legacy record alone", Input{Record: legacy}, PassApprox, "alpha not judged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Compare(tt.golden, Input{Image: got}, Options{})
			if r.Verdict != tt.verdict {
				t.Fatalf("verdict %s (%s), want %s", r.Verdict, r.Reason, tt.verdict)
			}
			if tt.verdict == Fail && r.FailedTier != FailColour {
				t.Errorf("failed tier %q (%s), want colour", r.FailedTier, r.Reason)
			}
			if note := r.Tier(TierColour).Note; !strings.Contains(note, tt.note) {
				t.Errorf("colour note %q, want %q", note, tt.note)
			}
		})
	}
}

// TestAlphaThresholdsDefaultWhenAbsent: thresholds stored before the
// alpha thresholds existed load with their defaults; explicit values stay.
func TestAlphaThresholdsDefaultWhenAbsent(t *testing.T) {
	t.Parallel()
	def := DefaultThresholds()
	var th Thresholds
	if err := json.Unmarshal([]byte(`{"colour_mean_delta_e": 0.5, "window": 16}`), &th); err != nil {
		t.Fatal(err)
	}
	if th.AlphaMean != def.AlphaMean || th.AlphaCell != def.AlphaCell || th.PixelAlphaLSB != def.PixelAlphaLSB {
		t.Fatalf("absent alpha thresholds: %+v, want the defaults", th)
	}
	th = Thresholds{}
	if err := json.Unmarshal([]byte(`{"alpha_mean_delta": 0, "alpha_cell_delta": 7, "pixel_alpha_lsb": 5}`), &th); err != nil {
		t.Fatal(err)
	}
	if th.AlphaMean != 0 || th.AlphaCell != 7 || th.PixelAlphaLSB != 5 {
		t.Fatalf("explicit alpha thresholds: %+v", th)
	}
	if _, err := LoadThresholds(strings.NewReader(`{"pixel_alpha_lsb": -1}`)); err == nil {
		t.Fatal("negative pixel_alpha_lsb accepted")
	}
}
