package sampling

import "math"

// BrownianTree is a deterministic, seedable Brownian motion W on [t0, t1]
// with W(t0) = 0, one independent component per tensor element, queried at
// arbitrary times in any order (the role torchsde.BrownianTree plays for
// ComfyUI's SDE samplers).
//
// W(t1) is drawn from a stream keyed by (seed, root). W(t) inside is found
// by bisection: for a dyadic node [l, r] with known W(l), W(r), the midpoint
// is the Brownian bridge W(m) = (W(l)+W(r))/2 + ½·sqrt(r−l)·z, z drawn from
// a stream keyed by (seed, node path). Bisection stops when the interval is
// below 2^−40 of the span, where W is interpolated linearly. Every query
// therefore sees the same sample path, so increments over adjacent or
// nested intervals are consistent, and the result depends only on (seed,
// t0, t1, n, query times) — but it is not torchsde's sample path, so SDE
// samplers are not bit-equal to ComfyUI's.
type BrownianTree struct {
	t0, t1 float64
	n      int
	seed   uint64
	w1     []float64
}

// maxTreeDepth bounds the bisection depth.
const maxTreeDepth = 40

// NewBrownianTree returns the Brownian motion on [t0, t1] (either order) of
// n components for seed.
func NewBrownianTree(t0, t1 float64, n int, seed uint64) *BrownianTree {
	if t0 > t1 {
		t0, t1 = t1, t0
	}
	b := &BrownianTree{t0: t0, t1: t1, n: n, seed: seed}
	b.w1 = b.normals(1, 0)
	s := math.Sqrt(t1 - t0)
	for i := range b.w1 {
		b.w1[i] *= s
	}
	return b
}

// Increment returns W(t) − W(s) (ComfyUI's BatchedBrownianTree sign
// convention: the tree is always queried with sorted times and the sign is
// restored, so Increment(s, t) = −Increment(t, s)).
func (b *BrownianTree) Increment(s, t float64) []float64 {
	ws, wt := b.At(s), b.At(t)
	for i := range wt {
		wt[i] -= ws[i]
	}
	return wt
}

// At returns W(t), t clamped to [t0, t1].
func (b *BrownianTree) At(t float64) []float64 {
	t = math.Min(math.Max(t, b.t0), b.t1)
	wl := make([]float64, b.n)
	wr := append([]float64(nil), b.w1...)
	l, r := b.t0, b.t1
	path := uint64(1)
	tol := (b.t1 - b.t0) * math.Ldexp(1, -maxTreeDepth)
	for depth := 1; depth <= maxTreeDepth && r-l > tol; depth++ {
		if t == l {
			return wl
		}
		if t == r {
			return wr
		}
		m := 0.5 * (l + r)
		z := b.normals(path, depth)
		half := 0.5 * math.Sqrt(r-l)
		wm := make([]float64, b.n)
		for i := range wm {
			wm[i] = 0.5*(wl[i]+wr[i]) + half*z[i]
		}
		if t < m {
			r, wr = m, wm
			path <<= 1
		} else {
			l, wl = m, wm
			path = path<<1 | 1
		}
	}
	if t == l {
		return wl
	}
	w := (t - l) / (r - l)
	for i := range wl {
		wl[i] += w * (wr[i] - wl[i])
	}
	return wl
}

// normals returns n standard normal values for the tree node (path, depth),
// from a splitmix64 stream keyed by seed, path and depth, via Box–Muller on
// 53-bit uniforms.
func (b *BrownianTree) normals(path uint64, depth int) []float64 {
	state := mix64(b.seed ^ mix64(path*0x9e3779b97f4a7c15+uint64(depth)))
	next := func() float64 {
		state += 0x9e3779b97f4a7c15
		return float64(mix64(state)>>11) * (1.0 / (1 << 53))
	}
	out := make([]float64, b.n)
	for i := 0; i < b.n; i += 2 {
		u1 := 1 - next() // (0, 1]
		u2 := next()
		r := math.Sqrt(-2 * math.Log(u1))
		s, c := math.Sincos(2 * math.Pi * u2)
		out[i] = r * c
		if i+1 < b.n {
			out[i+1] = r * s
		}
	}
	return out
}

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
