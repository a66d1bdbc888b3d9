package compare

import (
	"fmt"
	"image"
	"strings"
	"testing"
)

// darkChannel is synth(seed) with channel ch scaled by k before
// quantisation: an image in which that channel is dark.
func darkChannel(seed uint64, ch int, k float64) *floatImage {
	f := synth(seed, 256, 256)
	for i := ch; i < len(f.pix); i += 3 {
		f.pix[i] *= k
	}
	return f
}

// TestSystematicShift: a 2 % gain of a channel that is dark in the image
// moves the mean ΔE by about 0.13, under every ΔE threshold, yet moves
// every cell the same way; the bias metric catches it at the colour tier
// and names the channel, while float jitter and ±1 LSB noise on the same
// images pass.
func TestSystematicShift(t *testing.T) {
	t.Parallel()
	type golden struct {
		seed uint64
		ch   int
		k    float64
	}
	goldens := []golden{{1, 1, 0.3}, {2, 1, 0.25}, {3, 1, 0.3}, {5, 1, 0.3}, {2, 2, 0.3}, {6, 0, 0.25}}
	for _, gd := range goldens {
		f := darkChannel(gd.seed, gd.ch, gd.k)
		g := f.quantise(nil)
		mask := [3]bool{}
		mask[gd.ch] = true
		tests := []struct {
			name string
			got  *image.NRGBA
			fail bool
		}{
			{"gain 2%", gain(g, 0.02, mask), true},
			{"jitter ±0.5 LSB float", jitter(f, gd.seed), false},
			{"noise ±1 LSB", lsbNoise(g, gd.seed), false},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("seed%d/%s×%g/%s", gd.seed, channelNames[gd.ch], gd.k, tt.name), func(t *testing.T) {
				t.Parallel()
				r := Compare(Input{Image: g}, Input{Image: tt.got}, Options{})
				mean := r.Metric(TierColour, "mean_delta_e")
				z := r.Metric(TierColour, "bias_z")
				t.Logf("%s %s: mean_delta_e %.3f bias_z %.3g (%s)", r.Verdict, r.FailedTier, mean.Value, z.Value, r.Reason)
				if !tt.fail {
					if r.Verdict != PassApprox {
						t.Fatalf("verdict %s (%s), want pass~", r.Verdict, r.Reason)
					}
					return
				}
				if mean.Over || r.Metric(TierColour, "cast_delta_e").Over {
					t.Fatalf("the ΔE metrics catch this gain already: not a small shift")
				}
				if r.Verdict != Fail || r.FailedTier != FailColour {
					t.Fatalf("verdict %s/%q (%s), want fail/colour", r.Verdict, r.FailedTier, r.Reason)
				}
				if want := "colour: bias_z "; !strings.HasPrefix(r.Reason, want) || !strings.Contains(r.Reason, channelNames[gd.ch]+" +") {
					t.Errorf("reason %q does not name bias_z and the %s channel", r.Reason, channelNames[gd.ch])
				}
			})
		}
	}
}

// TestBiasIsWeak: a change that moves every cell mean the same way as a
// side effect (a 2 px shift across a gradient) trips the bias metric, but
// the local tier names it; from a record alone (no local tier) the colour
// tier does.
func TestBiasIsWeak(t *testing.T) {
	t.Parallel()
	golden := synth(2, 256, 256).quantise(nil)
	got := shift(golden, 2, 0)
	r := Compare(Input{Image: golden}, Input{Image: got}, Options{})
	if z := r.Metric(TierColour, "bias_z"); z == nil || !z.Over {
		t.Fatalf("bias_z %+v: this test needs a shift that trips it", z)
	}
	if r.FailedTier != FailLocal {
		t.Fatalf("failed tier %q (%s), want local: a bias alone is weak", r.FailedTier, r.Reason)
	}
	rec, err := NewRecord(golden, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := Compare(Input{Record: rec}, Input{Image: got}, Options{}); r.FailedTier != FailColour {
		t.Fatalf("from a record: failed tier %q (%s), want colour", r.FailedTier, r.Reason)
	}
}

func TestChannelBias(t *testing.T) {
	t.Parallel()
	flat := func(v [4]float64) *Levels {
		l := &Levels{Grid: make([]LevelStats, gridSize*gridSize)}
		for i := range l.Grid {
			l.Grid[i].Mean = v
		}
		return l
	}
	g := flat([4]float64{10, 20, 30, 255})
	o := flat([4]float64{11, 20, 29.5, 255})
	o.Grid[0].Mean[1] = 24 // one cell of green moved
	mean, z, same := channelBias(g, o)
	want := [4]float64{1, 0.25, -0.5, 0}
	for c := range 4 {
		if d := mean[c] - want[c]; d > 1e-12 || d < -1e-12 {
			t.Errorf("channel %d: mean %v, want %v", c, mean[c], want[c])
		}
	}
	// Uniform shifts divide by the minimum spread: z = mean·4/0.05.
	if z[0] != 80 || z[2] != -40 || z[3] != 0 {
		t.Errorf("z %v, want 80 and -40 for the uniform shifts, 0 for alpha", z)
	}
	// One cell of 16: z = 0.25 / (1/√16 ... ) = 1.
	if d := z[1] - 1; d > 1e-9 || d < -1e-9 {
		t.Errorf("z green %v, want 1 for a single cell", z[1])
	}
	if same != [4]int{16, 1, 16, 0} {
		t.Errorf("same-sign cells %v", same)
	}
}

// washedOut is a textured image squeezed towards white: each channel is
// 0.97 + 0.04 × the synthetic image's, so a good part of it is clipped at
// 255 and the rest spans a few levels in wide flat runs (the api-*
// fixture goldens are near white like this).
func washedOut(seed uint64, w, h int) *floatImage {
	f := synth(seed, w, h)
	for i := range f.pix {
		f.pix[i] = 0.97 + 0.04*f.pix[i]
	}
	return f
}

// TestDrift: the gain and hue controls trip drift_z on synthetic images
// of 64² and 128² (a hue rotation of a many-hued image moves each channel
// both ways, so less clearly: z 11–18 on two of the 64² ones; ≥ 22 on
// every fixture golden), while float jitter and ±1
// LSB noise stay under half of it on those, on washed-out ones (clipped
// levels, flat runs) and on the flat images. That drift_z alone catches
// these controls on the near-white and small fixture goldens is
// runner/calibrate's TestControlsFailOnGoldens.
func TestDrift(t *testing.T) {
	t.Parallel()
	red := [3]bool{true, false, false}
	type img struct {
		name string
		f    *floatImage
	}
	var imgs []img
	for _, size := range []int{64, 128} {
		for _, seed := range testSeeds {
			imgs = append(imgs, img{fmt.Sprintf("synth%d-%d", size, seed), synth(seed, size, size)},
				img{fmt.Sprintf("washed%d-%d", size, seed), washedOut(seed, size, size)})
		}
	}
	for _, fg := range flatGoldens() {
		imgs = append(imgs, img{fg.name, fg.f})
	}
	for i, im := range imgs {
		g := im.f.quantise(nil)
		seed := uint64(i + 1)
		tests := []struct {
			name string
			got  *image.NRGBA
			fail bool
		}{
			{"jitter ±0.5 LSB float", jitter(im.f, seed), false},
			{"noise ±1 LSB", lsbNoise(g, seed), false},
		}
		if strings.HasPrefix(im.name, "synth") {
			tests = append(tests, struct {
				name string
				got  *image.NRGBA
				fail bool
			}{"gain R +2%", gain(g, 0.02, red), true}, struct {
				name string
				got  *image.NRGBA
				fail bool
			}{"hue 3°", hueRotate(g, 3), true})
		}
		for _, tt := range tests {
			t.Run(im.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				r := Compare(Input{Image: g}, Input{Image: tt.got}, Options{})
				d := r.Metric(TierColour, "drift_z")
				t.Logf("%s %s: drift_z %.3g, drift_ratio %.3g (%s)", r.Verdict, r.FailedTier, d.Value,
					r.Metric(TierColour, "drift_ratio").Value, r.Reason)
				if !tt.fail {
					if r.Verdict != PassApprox || 2*d.Value > d.Threshold {
						t.Fatalf("verdict %s, drift_z %g: want pass~ within half the threshold (%s)", r.Verdict, d.Value, r.Reason)
					}
					return
				}
				if r.Verdict != Fail || !d.Over {
					t.Fatalf("verdict %s/%q, drift_z %g: want a failure with drift_z over its threshold (%s)",
						r.Verdict, r.FailedTier, d.Value, r.Reason)
				}
			})
		}
	}
}
