package model

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
)

// TestELSHaarRoundTrip: the Haar transform is orthonormal (it keeps ‖x‖²)
// and inverse undoes forward, at sizes that halve 0 to 6 times; every band
// position's support tiles the latent exactly once per band.
func TestELSHaarRoundTrip(t *testing.T) {
	t.Parallel()
	for _, sz := range [][3]int{{4, 8, 8}, {2, 6, 10}, {1, 5, 7}, {1, 16, 4}, {4, 64, 64}, {1, 128, 128}} {
		c, h, w := sz[0], sz[1], sz[2]
		x := gauss(uint64(h*w+c), c*h*w)
		g := newELSGeneric(x, 1, c, h, w, 1e-4)
		co := make([]float64, len(x))
		g.forward(co, x)
		checkOrthonormal(t, sz, x, co)
		back := make([]float64, len(x))
		g.inverse(back, co)
		for i := range x {
			if math.Abs(back[i]-float64(x[i])) > 1e-9 {
				t.Fatalf("%v: value %d: %v back as %v", sz, i, x[i], back[i])
			}
		}
		cover := make([]int, g.bands*h*w)
		for i := range g.band {
			for y := g.top[i]; y < g.top[i]+g.side[i]; y++ {
				for xx := g.left[i]; xx < g.left[i]+g.side[i]; xx++ {
					cover[(g.band[i]*h+y)*w+xx]++
				}
			}
		}
		for i, n := range cover {
			if n != 1 {
				t.Fatalf("%v: band %d pixel %d covered %d times", sz, i/(h*w), i%(h*w), n)
			}
		}
	}
}

// TestELSGSMFit: fitted to a spike-and-slab sample (90 % of values near 0,
// 10 % with standard deviation 2), the scale mixture has a slab scale of
// about that variance and weight, and its posterior mean is sparse:
// at noise σ = 0.5 it shrinks a noise-sized value by more than half and
// keeps a slab-sized one as the slab's Wiener gain does (4/4.25 ≈ 0.94).
func TestELSGSMFit(t *testing.T) {
	t.Parallel()
	n := 20000
	z := gauss(11, 2*n)
	xs := make([]float64, n)
	for i := range xs {
		if i%10 == 0 {
			xs[i] = float64(2 * z[i])
		} else {
			xs[i] = float64(0.01 * z[i])
		}
	}
	mix := fitGSM(xs, 1e-6)
	slab := mix[len(mix)-1]
	if math.Abs(slab.lam-4) > 0.5 || math.Abs(math.Exp(slab.logPi)-0.1) > 0.02 {
		t.Errorf("slab scale: weight %.3f variance %.3f, want about 0.1 and 4 (mixture %+v)", math.Exp(slab.logPi), slab.lam, mix)
	}
	g := &elsGeneric{mix: [][]gsm{mix}, mu: []float64{0}}
	const sig2 = 0.25
	for _, tc := range []struct {
		y        float64
		min, max float64 // posterior mean / y
	}{{0.5, 0, 0.5}, {6, 0.9, 1}, {-6, 0.9, 1}} {
		ll, mean := g.posterior(0, tc.y, sig2)
		if math.IsNaN(ll) || math.IsInf(ll, 0) {
			t.Fatalf("y %v: log density %v", tc.y, ll)
		}
		if r := mean / tc.y; r < tc.min || r > tc.max {
			t.Errorf("y %v: posterior mean %v (%.3f of y), want %.2f..%.2f of y", tc.y, mean, r, tc.min, tc.max)
		}
	}
}

// TestELSGenericKeepsUnexplainedInput: at σ = 0.8 (img2img at denoise
// ≈ 0.3), a latent no exemplar explains (an exemplar mirrored left to
// right) is denoised towards itself with the generic component, where the
// exemplar pieces alone draw it away (measured: 0.40 to 0.43 of the
// distance without it); an exemplar with the same noise still snaps onto
// itself: the generic component takes a few pixels (D is 4.7 to 7.6 from
// the exemplar, against 1.7 to 3.3 without it), far less than the noise's
// energy (655). 16×16 latents.
func TestELSGenericKeepsUnexplainedInput(t *testing.T) {
	t.Parallel()
	on := loadCkpt(t, "regen-els.safetensors")
	off, err := LoadCheckpoint(filepath.Join(modelsDir(), "checkpoints", "regen-els.safetensors"), cpu.New())
	if err != nil {
		t.Fatal(err)
	}
	off.Model().noELSGeneric = true
	const h, w, sigma = 16, 16, 0.8
	m := on.Model()
	s := m.at(h, w)
	C := m.cfg.LatentChannels
	d := C * h * w
	cond, _ := on.CLIP().Encode("")
	for _, k := range []int{3, 17, 42} {
		mu := s.lat[k*d : (k+1)*d]
		mirror := make([]float32, d)
		for ch := 0; ch < C; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					mirror[(ch*h+y)*w+x] = mu[(ch*h+y)*w+w-1-x]
				}
			}
		}
		noise := gauss(uint64(200+k), d)
		for _, tc := range []struct {
			name  string
			clean []float32
		}{{"mirrored exemplar", mirror}, {"exemplar", mu}} {
			x := node.NewTensor(1, C, h, w)
			for i := range x.Data {
				x.Data[i] = tc.clean[i] + sigma*noise[i]
			}
			dist := func(c *Checkpoint) float64 {
				out, err := c.Model().Predict(context.Background(), x, sigma, cond)
				if err != nil {
					t.Fatal(err)
				}
				var dc float64
				for i, v := range out.Data {
					dc += sq(float64(v) - float64(tc.clean[i]))
				}
				return dc
			}
			dOn, dOff := dist(on), dist(off)
			t.Logf("exemplar %d, %s: ‖D − clean‖² %.1f with the generic component, %.1f without", k, tc.name, dOn, dOff)
			switch tc.name {
			case "mirrored exemplar":
				if dOn > 0.6*dOff {
					t.Errorf("exemplar %d mirrored: ‖D − input‖² %.1f with the generic component, %.1f without: not kept", k, dOn, dOff)
				}
			default:
				var dn float64 // the noise's own energy, for scale
				for _, v := range noise {
					dn += sq(sigma * float64(v))
				}
				if dOn > 0.03*dn {
					t.Errorf("exemplar %d: ‖D − μ‖² %.1f with the generic component (%.1f without, noise %.1f): it took the exemplar's place", k, dOn, dOff, dn)
				}
			}
		}
	}
}

// BenchmarkELSGenericFit times fitting the generic component at a 64×64
// latent (512²), which the first els prediction at that size pays:
//
//	go test -run '^$' -bench ELSGenericFit ./executor/model
func BenchmarkELSGenericFit(b *testing.B) {
	c := loadCkpt(b, "regen-els.safetensors")
	m := c.Model()
	s := m.at(64, 64)
	K, d := m.set.K, m.cfg.LatentChannels*64*64
	for range b.N {
		newELSGeneric(s.lat[:K*d], K, m.cfg.LatentChannels, 64, 64, 1e-3)
	}
}
