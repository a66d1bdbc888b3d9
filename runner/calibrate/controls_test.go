package calibrate

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/regen-dev/regen/harness/compare"
)

// scene is a 128×128 image with a gradient, a saturated disc and an edge:
// every control has something to change.
func scene() *image.NRGBA {
	p := image.NewNRGBA(image.Rect(0, 0, 128, 128))
	for y := range 128 {
		for x := range 128 {
			c := color.NRGBA{uint8(40 + x), uint8(60 + y), 150, 255}
			if dx, dy := x-64, y-64; dx*dx+dy*dy < 900 {
				c = color.NRGBA{220, 60, 40, 255}
			}
			if x > 100 {
				c = color.NRGBA{20, 20, 30, 255}
			}
			p.SetNRGBA(x, y, c)
		}
	}
	return p
}

func TestEditsChangeWhatTheySay(t *testing.T) {
	t.Parallel()
	src := scene()
	orig := clone(src)
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			out := e.fn(src)
			changed := 0
			for i := 0; i < len(out.Pix); i += 4 {
				if out.Pix[i] != src.Pix[i] || out.Pix[i+1] != src.Pix[i+1] || out.Pix[i+2] != src.Pix[i+2] {
					changed++
				}
				if out.Pix[i+3] != src.Pix[i+3] {
					t.Fatalf("alpha changed at %d", i/4)
				}
			}
			if changed == 0 {
				t.Fatal("the edit changed nothing")
			}
			// Every control must fail at the default thresholds on a
			// 128² scene: the edits are regressions, not noise.
			res := compare.Compare(compare.Input{Image: src}, compare.Input{Image: out}, compare.Options{NoDiff: true})
			if res.Verdict != compare.Fail {
				t.Errorf("%s passes the defaults: %s", e.name, res.Reason)
			}
		})
	}
	for i := range src.Pix {
		if src.Pix[i] != orig.Pix[i] {
			t.Fatal("an edit changed its input")
		}
	}
}

func TestEditGeometry(t *testing.T) {
	t.Parallel()
	src := scene()
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"shift moves one pixel right", func(t *testing.T) {
			out := shiftRight(src)
			if out.NRGBAAt(101, 5) != src.NRGBAAt(100, 5) || out.NRGBAAt(0, 5) != src.NRGBAAt(0, 5) {
				t.Error("not a 1 px shift with the first column repeated")
			}
		}},
		{"patch covers half a percent", func(t *testing.T) {
			out := patch(src, 0.005)
			n := 0
			for i := 0; i < len(out.Pix); i += 4 {
				if out.Pix[i] != src.Pix[i] || out.Pix[i+1] != src.Pix[i+1] {
					n++
				}
			}
			if frac := float64(n) / (128 * 128); math.Abs(frac-0.005) > 0.001 {
				t.Errorf("patch covers %.4f of the area, want 0.005", frac)
			}
		}},
		{"red gain 2 %", func(t *testing.T) {
			out := redGain(src, 1.02)
			if got := out.NRGBAAt(64, 64).R; got != 224 { // 220 × 1.02 = 224.4
				t.Errorf("red %d, want 224", got)
			}
		}},
		{"hue keeps lightness", func(t *testing.T) {
			out := hueRotate(src, 3)
			c, o := src.NRGBAAt(64, 64), out.NRGBAAt(64, 64)
			l1, _, _ := toOKLab(c.R, c.G, c.B)
			l2, _, _ := toOKLab(o.R, o.G, o.B)
			if math.Abs(l1-l2) > 0.005 || c == o {
				t.Errorf("hue 3°: %v → %v, lightness %.4f → %.4f", c, o, l1, l2)
			}
		}},
		{"blur softens the edge", func(t *testing.T) {
			out := blur(src, 1)
			if out.NRGBAAt(100, 5) == src.NRGBAAt(100, 5) || out.NRGBAAt(10, 5) != src.NRGBAAt(10, 5) && absDiff(out.NRGBAAt(10, 5).R, src.NRGBAAt(10, 5).R) > 1 {
				t.Error("blur should move the edge and leave the smooth gradient (almost) alone")
			}
		}},
		{"OKLab round trip", func(t *testing.T) {
			for _, c := range []color.NRGBA{{0, 0, 0, 255}, {255, 255, 255, 255}, {220, 60, 40, 255}, {1, 2, 3, 255}} {
				r, g, b := fromOKLab(toOKLab(c.R, c.G, c.B))
				if r != c.R || g != c.G || b != c.B {
					t.Errorf("%v → %d %d %d", c, r, g, b)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t)
		})
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestControlNames(t *testing.T) {
	t.Parallel()
	got := ControlNames()
	want := []string{"hue 3°", "red gain 2%", "blur σ1", "shift 1px", "patch 0.5%", "seed+1"}
	if len(got) != len(want) {
		t.Fatalf("controls %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("control %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestControlMarginIsLargestRatio: a control's margin is the largest
// value/threshold of any tripped metric, also where the metric naming its
// tier is another (drift_z names a tier only when nothing else is over).
func TestControlMarginIsLargestRatio(t *testing.T) {
	t.Parallel()
	src := scene()
	th := compare.DefaultThresholds()
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			out := e.fn(src)
			ct := judgeControl(e.name, compare.Input{Image: src}, compare.Input{Image: out}, &th)
			res := compare.Compare(compare.Input{Image: src}, compare.Input{Image: out}, compare.Options{Thresholds: &th, NoDiff: true})
			want := 0.0
			for _, tr := range res.Tiers {
				for _, m := range tr.Metrics {
					if m.Gated && m.Over && m.Threshold > 0 {
						want = max(want, m.Value/m.Threshold)
					}
				}
			}
			if want == 0 || ct.Margin != want {
				t.Errorf("margin %g, want the largest ratio %g (tripped %v)", ct.Margin, want, ct.Tripped)
			}
		})
	}
}
