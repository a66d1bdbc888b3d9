package sampling

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"
)

// BrownianTree is a deterministic, seedable Brownian motion W on [t0, t1]
// with W(t0) = 0, one independent component per tensor element, queried at
// arbitrary times in any order (the role torchsde.BrownianTree plays for
// ComfyUI's SDE samplers).
//
// W(t1) is drawn from a stream keyed by (seed, root). W(t) inside is found
// by bisection: for a dyadic node [l, r] with known W(l), W(r), the midpoint
// is the Brownian bridge W(m) = (W(l)+W(r))/2 + ½·sqrt(r−l)·z, z drawn from
// a stream keyed by (seed, node path). Bisection stops 24 levels down
// (2^−24 of the span), where W is interpolated linearly. Every query
// therefore sees the same sample path, so increments over adjacent or
// nested intervals are consistent, and the result depends only on (seed,
// t0, t1, n, query times) — but it is not torchsde's sample path, so SDE
// samplers are not bit-equal to ComfyUI's.
//
// A BrownianTree caches the bisection path of its latest query (successive
// queries share most of it), so it is not safe for concurrent use.
type BrownianTree struct {
	t0, t1 float64
	n      int
	seed   uint64
	path   []treeLevel // path[0] is the root [t0, t1]
}

// treeLevel is one dyadic interval with the motion at its ends.
type treeLevel struct {
	l, r   float64
	wl, wr []float64
	key    uint64 // node path: 1 for the root, then one bit per level
}

// maxTreeDepth bounds the bisection: below 2^−24 of the span W is
// interpolated linearly.
const maxTreeDepth = 24

// NewBrownianTree returns the Brownian motion on [t0, t1] (either order) of
// n components for seed.
func NewBrownianTree(t0, t1 float64, n int, seed uint64) *BrownianTree {
	if t0 > t1 {
		t0, t1 = t1, t0
	}
	b := &BrownianTree{t0: t0, t1: t1, n: n, seed: seed}
	w1 := b.normals(1, 0)
	s := math.Sqrt(t1 - t0)
	for i := range w1 {
		w1[i] *= s
	}
	b.path = []treeLevel{{l: t0, r: t1, wl: make([]float64, n), wr: w1, key: 1}}
	return b
}

// Increment returns W(t) − W(s) (ComfyUI's BatchedBrownianTree sign
// convention: the tree is always queried with sorted times and the sign is
// restored, so Increment(s, t) = −Increment(t, s)).
func (b *BrownianTree) Increment(s, t float64) []float64 {
	ws := b.At(s)
	wt := b.At(t)
	out := make([]float64, len(wt))
	for i := range wt {
		out[i] = wt[i] - ws[i]
	}
	return out
}

// At returns W(t), t clamped to [t0, t1]. The result is a new slice.
func (b *BrownianTree) At(t float64) []float64 {
	t = math.Min(math.Max(t, b.t0), b.t1)
	for depth := 0; ; depth++ {
		if depth >= len(b.path) || !(b.path[depth].l <= t && t <= b.path[depth].r) {
			b.path = b.path[:depth]
			b.path = append(b.path, b.child(b.path[depth-1], t, depth))
		}
		lv := b.path[depth]
		switch {
		case t == lv.l:
			return append([]float64(nil), lv.wl...)
		case t == lv.r:
			return append([]float64(nil), lv.wr...)
		case depth == maxTreeDepth:
			w := (t - lv.l) / (lv.r - lv.l)
			out := make([]float64, b.n)
			for i := range out {
				out[i] = lv.wl[i] + float64(w*(lv.wr[i]-lv.wl[i]))
			}
			return out
		}
	}
}

// child returns the half of p that contains t, drawing W at p's midpoint
// from the Brownian bridge: (W(l)+W(r))/2 + ½·sqrt(r−l)·z.
func (b *BrownianTree) child(p treeLevel, t float64, depth int) treeLevel {
	m := 0.5 * (p.l + p.r)
	z := b.normals(p.key, depth)
	half := 0.5 * math.Sqrt(p.r-p.l)
	wm := make([]float64, b.n)
	for i := range wm {
		wm[i] = float64(0.5*(p.wl[i]+p.wr[i])) + float64(half*z[i])
	}
	if t < m {
		return treeLevel{l: p.l, r: m, wl: p.wl, wr: wm, key: p.key << 1}
	}
	return treeLevel{l: m, r: p.r, wl: wm, wr: p.wr, key: p.key<<1 | 1}
}

// normals returns n standard normal values for the tree node (path, depth),
// from a splitmix64 stream keyed by seed, path and depth, via Box–Muller on
// 53-bit uniforms.
func (b *BrownianTree) normals(path uint64, depth int) []float64 {
	state := mix64(b.seed ^ mix64(path*0x9e3779b97f4a7c15+uint64(depth)))
	next := func() float64 {
		state += 0x9e3779b97f4a7c15
		return float64(float64(mix64(state)>>11) * (1.0 / (1 << 53)))
	}
	out := make([]float64, b.n)
	for i := 0; i < b.n; i += 2 {
		u1 := 1 - next() // (0, 1]
		u2 := next()
		r := math.Sqrt(-2 * pmath.Log(u1))
		s, c := pmath.Sincos(2 * math.Pi * u2)
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
