package model

import "github.com/regen-dev/regen/internal/pmath"

// The generic component's posterior mean under an edge-preserving prior
// (issue 13). The Wiener filter of generic.go is the posterior mean of a
// Gaussian prior; a Gaussian cannot tell the starting noise of an img2img
// from content at the frequencies where the exemplars vary more than σ²,
// so it kept that noise as colour blotches a few latent pixels across.
// Real images (and the fixture scenes: smooth backgrounds, flat shapes
// with sharp edges) are piecewise smooth: a value is best estimated from
// the neighbours on its own side of an edge. flatMean computes that
// estimate by a fixed number of deterministic joint-bilateral passes
// ("rolling guidance"):
//
//	J₀ = the spatial Gaussian average of x (no edges known yet),
//	J_t(i) = Σ_j w_ij·x_j / Σ_j w_ij,
//	w_ij = exp(−‖i − j‖²/(2ρ²)) · exp(−‖J_{t−1}(i) − J_{t−1}(j)‖² / (2κ·C·(n_i + n_j))),
//
// every pass averaging x itself (not the previous pass) over the
// neighbours whose previous estimate is within the noise of i's own, so
// an edge between two regions stops the averaging and a flat or smoothly
// varying region is averaged over the whole window. n_i is the noise
// variance left in J_{t−1}(i) by its own weights, σ²·Σw²/(Σw)² (exact for
// weights that do not depend on the noise), so the range kernel narrows
// as the estimate gets cleaner and, as σ → 0, keeps only equal values:
// D_g(x) → x, as a posterior mean must.
//
// On latents larger than flatStrideSide a side (512² images and up) the
// window's taps are min(h, w)/flatStrideSide pixels apart, so that it
// spans the same part of the picture at every size: with adjacent taps a
// 128×128 latent (the 1024² refine case) kept the noise's average over a
// few latent pixels as blotches 30 image pixels across. Cleanup passes at
// half the stride and less, down to 1, then average the estimate itself
// (guided by itself), so the grain that strided taps leave between them
// goes too (TestFlatMeanNoBlotchesOnLargeLatents).
//
// Cost per evaluation: 1 + flatPasses (+ log2 of the stride) passes of
// (2·flatRadius+1)² = 81 taps per latent pixel and C multiply-adds per
// tap; the range weights (two exps: the colour channels' and the edge
// channel's) are symmetric and computed once per pair. BenchmarkFlatMean
// measured 5.7 ms at 16×16, 0.14 s at 64×64 and 0.56 s at 128×128 per
// evaluation on the shared 2-core machine at load ≈ 10 (19–28 ms,
// 0.16–0.6 s and 1.6–2.2 s before the pairs were shared). It runs only
// where the generic component's weight is above minGenericWeight: img2img
// below σ = 1, and the last step or two (σ < 0.07) of some txt2img runs,
// where the generic component may win (the lora and api-sdxl-controlnet
// cases moved by that). A 1024² img2img with many steps below σ = 1 pays
// it on each of them (a round window, 49 taps instead of 81, would save
// 40% more).
//
// Every sum runs in a fixed order (the window row by row) with products
// rounded explicitly (no fused multiply-add), as in components.go.

const (
	// flatRadius is the window's half side in latent pixels.
	flatRadius = 4
	// flatSpatial is ρ, the spatial kernel's width in latent pixels.
	flatSpatial = 2.0
	// flatRange is κ: a neighbour whose estimate differs from i's by the
	// noise alone gets weight e^(−1/(2κ)) against itself.
	flatRange = 4.0
	// flatPasses is the number of edge-aware passes after the first,
	// spatial-only one.
	flatPasses = 5
	// flatStrideSide: on latents larger than this many pixels a side
	// the window's taps are min(h, w)/flatStrideSide pixels apart.
	flatStrideSide = 32
	// flatFloor is the smallest difference per value, at σ ≥ 1, that the
	// range kernel treats as noise.
	flatFloor = 0.2
)

// flatMean writes the edge-preserving posterior mean of latent x [c, h, w]
// at noise variance sig2 into out (len(out) == len(x); out must not alias
// x).
func flatMean(out, x []float32, c, h, w int, sig2 float64) {
	flatPassesMean(out, x, c, h, w, sig2, flatPasses, max(1, min(h, w)/flatStrideSide))
}

// flatPassesMean is flatMean with the given number of edge-aware passes
// (0: the spatial Gaussian average alone, and no cleanup passes) and
// stride of the window's taps.
func flatPassesMean(out, x []float32, c, h, w int, sig2 float64, passes, stride int) {
	hw := h * w
	f := newFlatPass(c, h, w, sig2)
	xs := make([]float64, c*hw)
	for i, v := range x {
		xs[i] = float64(v)
	}
	xn := make([]float64, hw)
	for i := range xn {
		xn[i] = sig2
	}
	guide, noise := make([]float64, c*hw), make([]float64, hw)
	next, nextNoise := make([]float64, c*hw), make([]float64, hw)
	// rolling guidance: every pass averages x, guided by the previous one
	f.run(guide, noise, xs, xn, nil, nil, stride)
	for range passes {
		f.run(next, nextNoise, xs, xn, guide, noise, stride)
		guide, next = next, guide
		noise, nextNoise = nextNoise, noise
	}
	// cleanup at finer strides: averaging the estimate itself, guided by
	// itself, so the grain that taps stride pixels apart leave between
	// them goes too
	for st := stride / 2; passes > 0 && st >= 1; st /= 2 {
		f.run(next, nextNoise, guide, noise, guide, noise, st)
		guide, next = next, guide
		noise, nextNoise = nextNoise, noise
	}
	for i, v := range guide {
		out[i] = float32(v)
	}
}

// flatPass is one joint-bilateral pass's fixed parts.
type flatPass struct {
	c, h, w int
	spatial []float64 // [(2R+1)²] spatial weights by tap
	floor   float64   // the range kernel's floor per value
	acc     []float64
	ws, wt  []float64 // [h·w, (2R+1)²] range weights by pixel and tap (rangeWeights)
}

func newFlatPass(c, h, w int, sig2 float64) *flatPass {
	R := flatRadius
	side := 2*R + 1
	f := &flatPass{c: c, h: h, w: w, spatial: make([]float64, side*side), acc: make([]float64, c),
		floor: float64(float64(flatFloor*flatFloor) * min(sig2, 1))}
	for dy := -R; dy <= R; dy++ {
		for dx := -R; dx <= R; dx++ {
			f.spatial[(dy+R)*side+dx+R] = pmath.Exp(-float64(dy*dy+dx*dx) / float64(2*flatSpatial*flatSpatial))
		}
	}
	return f
}

// run writes into dst the average of src (noise variance srcNoise per
// pixel) over the window of taps stride pixels apart, weighted by the
// spatial kernel and, with a guide, by the range kernel on the guide's
// differences (noise variance guideNoise per pixel); dstNoise receives the
// noise variance left in each average, Σw²·srcNoise/(Σw)². The last
// channel (the VAE's edge channel, rough where the others are smooth) is
// weighed by all channels' differences, the others by theirs alone, so an
// edge pixel's colour still averages with its own side.
func (f *flatPass) run(dst, dstNoise, src, srcNoise, guide, guideNoise []float64, stride int) {
	c, h, w := f.c, f.h, f.w
	hw := h * w
	R := flatRadius
	side := 2*R + 1
	T := side * side
	if guide != nil {
		f.rangeWeights(guide, guideNoise, stride)
	}
	acc := f.acc
	for y := 0; y < h; y++ {
		for xq := 0; xq < w; xq++ {
			i := y*w + xq
			for ch := range acc {
				acc[ch] = 0
			}
			var sw, swr, sn float64
			for ky := -R; ky <= R; ky++ {
				yy := y + ky*stride
				if yy < 0 || yy >= h {
					continue
				}
				for kx := -R; kx <= R; kx++ {
					xx := xq + kx*stride
					if xx < 0 || xx >= w {
						continue
					}
					j := yy*w + xx
					k := (ky+R)*side + kx + R
					wt := f.spatial[k]
					ws := wt // the smooth channels' weight
					if guide != nil {
						ws, wt = f.ws[i*T+k], f.wt[i*T+k]
					}
					for ch := 0; ch < c-1; ch++ {
						acc[ch] += float64(ws * src[ch*hw+j])
					}
					acc[c-1] += float64(wt * src[(c-1)*hw+j])
					sw += ws
					swr += wt
					sn += float64(float64(ws*ws) * srcNoise[j])
				}
			}
			for ch := 0; ch < c-1; ch++ {
				dst[ch*hw+i] = acc[ch] / sw
			}
			dst[(c-1)*hw+i] = acc[c-1] / swr
			dstNoise[i] = sn / float64(sw*sw)
		}
	}
}

// rangeWeights fills f.ws and f.wt [hw, T] with every pixel's weight of
// each tap (spatial times range; the centre tap's is 1): the smooth
// channels' and the edge channel's. The weights are symmetric (the
// spatial kernel is, and the range term uses (a − b)² and a sum of the
// two noises, the same bits either way), so each pair is computed once,
// from the pixel whose tap points forward, and stored for both: half the
// exps.
func (f *flatPass) rangeWeights(guide, guideNoise []float64, stride int) {
	c, h, w := f.c, f.h, f.w
	hw := h * w
	R := flatRadius
	side := 2*R + 1
	T := side * side
	if len(f.ws) != hw*T {
		f.ws, f.wt = make([]float64, hw*T), make([]float64, hw*T)
	}
	mid := T / 2
	for i := 0; i < hw; i++ {
		f.ws[i*T+mid], f.wt[i*T+mid] = f.spatial[mid], f.spatial[mid]
	}
	for y := 0; y < h; y++ {
		for xq := 0; xq < w; xq++ {
			i := y*w + xq
			for k := mid + 1; k < T; k++ {
				yy, xx := y+(k/side-R)*stride, xq+(k%side-R)*stride
				if yy < 0 || yy >= h || xx < 0 || xx >= w {
					continue
				}
				j := yy*w + xx
				wt := f.spatial[k]
				ws := wt
				// the noise variance of the two estimates' difference, per value
				nv := float64(guideNoise[i]+guideNoise[j]) + f.floor
				var dd float64
				for ch := 0; ch < c; ch++ {
					e := guide[ch*hw+i] - guide[ch*hw+j]
					if ch == c-1 {
						ws = rangeWeight(wt, dd, float64(float64(2*flatRange*float64(c-1))*nv))
					}
					dd += float64(e * e)
				}
				wt = rangeWeight(wt, dd, float64(float64(2*flatRange*float64(c))*nv))
				f.ws[i*T+k], f.wt[i*T+k] = ws, wt
				f.ws[j*T+T-1-k], f.wt[j*T+T-1-k] = ws, wt
			}
		}
	}
}

// rangeWeight returns wt·exp(−dd/h2) (0 for dd > 0 at h2 = 0).
func rangeWeight(wt, dd, h2 float64) float64 {
	if h2 > 0 {
		return float64(wt * pmath.Exp(-dd/h2))
	}
	if dd > 0 {
		return 0
	}
	return wt
}
