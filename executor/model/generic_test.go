package model

import (
	"context"
	"math"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

// TestDCTRoundTrip: the basis is orthonormal, so synth undoes coefs.
func TestDCTRoundTrip(t *testing.T) {
	t.Parallel()
	for _, sz := range [][3]int{{4, 8, 8}, {2, 5, 7}, {1, 16, 3}} {
		c, h, w := sz[0], sz[1], sz[2]
		x := gauss(uint64(h*w), c*h*w)
		g := &generic{c: c, h: h, w: w, by: dctBasis(h), bx: dctBasis(w)}
		co := make([]float64, len(x))
		g.coefs(co, x)
		checkOrthonormal(t, sz, x, co)
		back := make([]float32, len(x))
		g.synth(back, co)
		for i := range x {
			if math.Abs(float64(back[i]-x[i])) > 1e-5 {
				t.Fatalf("%v: value %d: %v back as %v", sz, i, x[i], back[i])
			}
		}
	}
}

// TestGenericWienerGain: fitted on latents that vary along two DCT
// frequencies only, the generic component keeps x's coefficient in
// proportion λ/(λ+σ²) and returns the mean elsewhere.
func TestGenericWienerGain(t *testing.T) {
	t.Parallel()
	const c, h, w, n = 1, 8, 8, 64
	g0 := &generic{c: c, h: h, w: w, by: dctBasis(h), bx: dctBasis(w)}
	noise := gauss(7, 2*n)
	lat := make([]float32, n*h*w)
	co := make([]float64, h*w)
	for k := 0; k < n; k++ {
		for i := range co {
			co[i] = 0
		}
		co[0] = 2                             // a constant mean, no variance
		co[1*w+2] = float64(3 * noise[2*k])   // variance ≈ 9
		co[5*w+5] = float64(noise[2*k+1]) / 4 // variance ≈ 1/16
		g0.synth(lat[k*h*w:(k+1)*h*w], co)
	}
	const floor = 1e-4
	g := newGeneric(lat, n, c, h, w, 1, floor)
	if math.Abs(g.mu[0]-2) > 1e-5 || g.lam[0] != floor {
		t.Errorf("DC: mean %v variance %v, want 2 and the floor", g.mu[0], g.lam[0])
	}
	x := make([]float32, h*w)
	for i := range co {
		co[i] = 0
	}
	co[0], co[1*w+2], co[5*w+5], co[3*w+1] = 5, 1, 1, 1
	g0.synth(x, co)
	const sig2 = 0.25
	ll, xc := g.loglik(x, sig2)
	if math.IsNaN(ll) || math.IsInf(ll, 0) {
		t.Fatalf("log likelihood %v", ll)
	}
	out := make([]float32, h*w)
	g.mean(out, xc, sig2)
	g0.coefs(co, out)
	for _, tc := range []struct {
		i    int
		want float64
	}{
		{0, 2 + (5-2)*floor/(floor+sig2)},
		{1*w + 2, g.mu[1*w+2] + (1-g.mu[1*w+2])*g.lam[1*w+2]/(g.lam[1*w+2]+sig2)},
		{5*w + 5, g.mu[5*w+5] + (1-g.mu[5*w+5])*g.lam[5*w+5]/(g.lam[5*w+5]+sig2)},
		{3*w + 1, floor / (floor + sig2)},
	} {
		if math.Abs(co[tc.i]-tc.want) > 1e-5 {
			t.Errorf("coefficient %d: %v, want %v", tc.i, co[tc.i], tc.want)
		}
	}
	if g.lam[1*w+2] < 4 || g.lam[5*w+5] > 0.2 {
		t.Errorf("fitted variances %v and %v, want about 9 and 1/16", g.lam[1*w+2], g.lam[5*w+5])
	}
}

// TestGenericKeepsUnexplainedInput: a latent no exemplar explains (an
// exemplar mirrored left to right), with noise at σ = 0.8 (img2img at
// denoise ≈ 0.3), is denoised towards itself, not snapped onto the
// nearest exemplar; the same noise on an exemplar still snaps onto it
// (the exemplar components win where they explain x). Since the exemplar
// families (fixtures/gen), a symmetric shape's mirror can lie near one of
// its siblings (exemplar 42's within 18, against noise of 2600): the
// exemplars are picked so that no exemplar explains their mirror, and the
// test checks that it holds.
func TestGenericKeepsUnexplainedInput(t *testing.T) {
	t.Parallel()
	c := loadCkpt(t, "regen-gmm.safetensors")
	m := c.Model()
	if m.cfg.GenericScale <= 0 {
		t.Fatal("the gmm checkpoint has no generic component")
	}
	e := m.set
	d := e.C * e.H * e.W
	const sigma = 0.8
	cond, _ := c.CLIP().Encode("")
	for _, k := range []int{0, 3, 40} {
		mu := e.lat[k*d : (k+1)*d]
		mirror := make([]float32, d)
		for ch := 0; ch < e.C; ch++ {
			for y := 0; y < e.H; y++ {
				for x := 0; x < e.W; x++ {
					mirror[(ch*e.H+y)*e.W+x] = mu[(ch*e.H+y)*e.W+e.W-1-x]
				}
			}
		}
		noise := gauss(uint64(100+k), d)
		for _, tc := range []struct {
			name  string
			clean []float32
		}{{"mirrored exemplar", mirror}, {"exemplar", mu}} {
			x := node.NewTensor(1, e.C, e.H, e.W)
			for i := range x.Data {
				x.Data[i] = tc.clean[i] + sigma*noise[i]
			}
			out, err := m.Predict(context.Background(), x, sigma, cond)
			if err != nil {
				t.Fatal(err)
			}
			// distance of D to the clean latent, and to the nearest exemplar
			var dc float64
			near := math.Inf(1)
			for i, v := range out.Data {
				dc += sq(float64(v) - float64(tc.clean[i]))
			}
			for j := 0; j < e.K; j++ {
				var dj float64
				for i, v := range out.Data {
					dj += sq(float64(v) - float64(e.lat[j*d+i]))
				}
				near = min(near, dj)
			}
			var dn float64 // the noise's own energy, for scale
			for _, v := range noise {
				dn += sq(sigma * float64(v))
			}
			switch tc.name {
			case "mirrored exemplar":
				// the premise: no exemplar is within half the noise's
				// energy of the mirrored latent
				premise := math.Inf(1)
				for j := 0; j < e.K; j++ {
					var dj float64
					for i, v := range tc.clean {
						dj += sq(float64(v) - float64(e.lat[j*d+i]))
					}
					premise = min(premise, dj)
				}
				if premise < 0.5*dn {
					t.Fatalf("exemplar %d mirrored lies within %.1f of an exemplar (noise %.1f): pick another", k, premise, dn)
				}
				// kept: D is nearer the input than the noisy x was, and
				// nearer than to any exemplar
				if dc > 0.5*dn || dc > near {
					t.Errorf("exemplar %d mirrored: ‖D − input‖² %.1f (noise %.1f), nearest exemplar %.1f: not kept", k, dc, dn, near)
				}
			default:
				if dc > 0.05*dn {
					t.Errorf("exemplar %d: ‖D − μ‖² %.2f (noise %.1f): did not snap onto it", k, dc, dn)
				}
			}
		}
	}
}

func sq(v float64) float64 { return v * v }

// checkOrthonormal fails unless the transform of x into co kept its energy
// (Parseval: an orthonormal basis), to 1e-9 relative.
func checkOrthonormal(t *testing.T, sz [3]int, x []float32, co []float64) {
	t.Helper()
	var ex, ec float64
	for i := range x {
		ex += float64(x[i]) * float64(x[i])
		ec += co[i] * co[i]
	}
	if math.Abs(ex-ec) > 1e-9*ex {
		t.Errorf("%v: ‖x‖² %v, ‖coefs‖² %v (not orthonormal)", sz, ex, ec)
	}
}
