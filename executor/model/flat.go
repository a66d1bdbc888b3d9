package model

import "math"

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
// Cost per evaluation: flatPasses+1 passes of (2·flatRadius+1)² weights
// per latent pixel (one exp each) and C multiply-adds per weight: about
// 0.3 M exps at a 16×16 latent, 20 M at 128×128; it runs only on the
// steps where the generic component's weight is above minGenericWeight
// (img2img below σ = 1), not on txt2img's.
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
	// flatFloor is the smallest difference per value, at σ ≥ 1, that the
	// range kernel treats as noise.
	flatFloor = 0.2
)

// flatMean writes the edge-preserving posterior mean of latent x [c, h, w]
// at noise variance sig2 into out (len(out) == len(x); out must not alias
// x).
func flatMean(out, x []float32, c, h, w int, sig2 float64) {
	flatPassesMean(out, x, c, h, w, sig2, flatPasses)
}

// flatPassesMean is flatMean with the given number of edge-aware passes
// (0: the spatial Gaussian average alone).
func flatPassesMean(out, x []float32, c, h, w int, sig2 float64, passes int) {
	hw := h * w
	R := flatRadius
	side := 2*R + 1
	spatial := make([]float64, side*side)
	for dy := -R; dy <= R; dy++ {
		for dx := -R; dx <= R; dx++ {
			spatial[(dy+R)*side+dx+R] = math.Exp(-float64(dy*dy+dx*dx) / float64(2*flatSpatial*flatSpatial))
		}
	}
	floor := float64(float64(flatFloor*flatFloor) * min(sig2, 1))
	guide := make([]float64, c*hw) // J_{t−1}, [c, h, w]
	noise := make([]float64, hw)   // n_i of J_{t−1}
	next := make([]float64, c*hw)
	nextNoise := make([]float64, hw)
	acc := make([]float64, c)
	for pass := 0; pass <= passes; pass++ {
		for y := 0; y < h; y++ {
			for xq := 0; xq < w; xq++ {
				i := y*w + xq
				for ch := range acc {
					acc[ch] = 0
				}
				var sw, sw2, swr float64
				for yy := max(y-R, 0); yy <= min(y+R, h-1); yy++ {
					for xx := max(xq-R, 0); xx <= min(xq+R, w-1); xx++ {
						j := yy*w + xx
						wt := spatial[(yy-y+R)*side+xx-xq+R]
						ws := wt // the smooth channels' weight
						if pass > 0 && j != i {
							// the noise variance of the two estimates' difference, per value
							nv := float64(noise[i]+noise[j]) + floor
							var dd float64
							for ch := 0; ch < c; ch++ {
								e := guide[ch*hw+i] - guide[ch*hw+j]
								if ch == c-1 {
									ws = rangeWeight(wt, dd, float64(float64(2*flatRange*float64(c-1))*nv))
								}
								dd += float64(e * e)
							}
							wt = rangeWeight(wt, dd, float64(float64(2*flatRange*float64(c))*nv))
						}
						for ch := 0; ch < c-1; ch++ {
							acc[ch] += float64(ws * float64(x[ch*hw+j]))
						}
						acc[c-1] += float64(wt * float64(x[(c-1)*hw+j]))
						sw += ws
						sw2 += float64(ws * ws)
						swr += wt
					}
				}
				for ch := 0; ch < c-1; ch++ {
					next[ch*hw+i] = acc[ch] / sw
				}
				next[(c-1)*hw+i] = acc[c-1] / swr
				nextNoise[i] = float64(sig2*sw2) / float64(sw*sw)
			}
		}
		guide, next = next, guide
		noise, nextNoise = nextNoise, noise
	}
	for i, v := range guide {
		out[i] = float32(v)
	}
}

// rangeWeight returns wt·exp(−dd/h2) (0 for dd > 0 at h2 = 0).
func rangeWeight(wt, dd, h2 float64) float64 {
	if h2 > 0 {
		return float64(wt * math.Exp(-dd/h2))
	}
	if dd > 0 {
		return 0
	}
	return wt
}
