package backendtest

import (
	"math/rand/v2"

	"github.com/regen-dev/regen/executor/backend"
)

// Case is one attention problem of the suite, generated deterministically
// from its fields.
type Case struct {
	Name          string
	NQ, NK, D, DV int
	Variance      float32
	Bias          BiasKind
	KNorm         bool // pass ‖k_j‖² precomputed (float64, rounded to float32)
	Data          DataKind
	Seed          uint64
}

// BiasKind selects the Bias slice of a Case.
type BiasKind int

// Bias kinds.
const (
	BiasNil    BiasKind = iota // nil
	BiasZero                   // all zeros
	BiasRandom                 // uniform in [−2, 2]
	BiasHuge                   // uniform in [−1e4, 1e4]: logits far beyond float32 exp range
)

// DataKind selects how Q, K and V are drawn.
type DataKind int

// Data kinds.
const (
	// Uniform draws every value uniformly in [−1, 1].
	Uniform DataKind = iota
	// Grid draws multiples of 1/16 in [−2, 2]: every norm and distance is
	// exact in float32, so tiny variances give huge but exact logits.
	Grid
	// Offset puts every query and key at 8·(1,…,1) plus noise of ±0.1:
	// ‖q‖² ≈ 64·D dwarfs ‖q − k‖² ≈ D/150, the cancellation that the
	// expansion ‖q‖² + ‖k‖² − 2⟨q,k⟩ must survive.
	Offset
	// Clustered draws keys around 6 centres and queries near the keys,
	// like posterior means late in sampling.
	Clustered
)

// Args builds the arguments of c, with Out allocated and zeroed.
func (c Case) Args() *backend.AttentionArgs {
	rng := rand.New(rand.NewPCG(c.Seed, 0x5eed))
	a := &backend.AttentionArgs{
		NQ: c.NQ, NK: c.NK, D: c.D, DV: c.DV, Variance: c.Variance,
		Q:   make([]float32, c.NQ*c.D),
		K:   make([]float32, c.NK*c.D),
		V:   make([]float32, c.NK*c.DV),
		Out: make([]float32, c.NQ*c.DV),
	}
	uni := func(lo, hi float64) float32 { return float32(lo + (hi-lo)*rng.Float64()) }
	switch c.Data {
	case Uniform:
		fill(a.Q, func() float32 { return uni(-1, 1) })
		fill(a.K, func() float32 { return uni(-1, 1) })
	case Grid:
		g := func() float32 { return float32(rng.IntN(65)-32) / 16 }
		fill(a.Q, g)
		fill(a.K, g)
	case Offset:
		o := func() float32 { return 8 + uni(-0.1, 0.1) }
		fill(a.Q, o)
		fill(a.K, o)
	case Clustered:
		const centres = 6
		cs := make([]float32, centres*c.D)
		fill(cs, func() float32 { return uni(-1, 1) })
		for j := range c.NK {
			m := rng.IntN(centres)
			for t := range c.D {
				a.K[j*c.D+t] = cs[m*c.D+t] + uni(-0.05, 0.05)
			}
		}
		for i := range c.NQ {
			j := rng.IntN(c.NK)
			for t := range c.D {
				a.Q[i*c.D+t] = a.K[j*c.D+t] + uni(-0.02, 0.02)
			}
		}
	}
	fill(a.V, func() float32 { return uni(-1, 1) })
	switch c.Bias {
	case BiasZero:
		a.Bias = make([]float32, c.NK)
	case BiasRandom:
		a.Bias = make([]float32, c.NK)
		fill(a.Bias, func() float32 { return uni(-2, 2) })
	case BiasHuge:
		a.Bias = make([]float32, c.NK)
		fill(a.Bias, func() float32 { return uni(-1e4, 1e4) })
	}
	if c.KNorm {
		a.KNorm = KeyNorms(a.K, c.NK, c.D)
	}
	return a
}

// KeyNorms returns ‖k_j‖² for the NK rows of k (row length d), summed in
// float64 and rounded to float32, as a caller that caches them would.
func KeyNorms(k []float32, nk, d int) []float32 {
	out := make([]float32, nk)
	for j := range nk {
		var s float64
		for _, x := range k[j*d : (j+1)*d] {
			s += float64(x) * float64(x)
		}
		out[j] = float32(s)
	}
	return out
}

func fill(s []float32, f func() float32) {
	for i := range s {
		s[i] = f()
	}
}

// Cases is the suite's table of accuracy cases.
func Cases() []Case {
	return []Case{
		{Name: "one_of_each", NQ: 1, NK: 1, D: 1, DV: 1, Variance: 1},
		{Name: "single_key", NQ: 5, NK: 1, D: 7, DV: 3, Variance: 0.5, Bias: BiasRandom},
		{Name: "odd_sizes", NQ: 7, NK: 13, D: 5, DV: 3, Variance: 0.3, Bias: BiasRandom, Seed: 1},
		{Name: "odd_sizes_many_queries", NQ: 37, NK: 29, D: 11, DV: 9, Variance: 0.7, Seed: 2},
		{Name: "zero_dim", NQ: 3, NK: 4, D: 0, DV: 2, Variance: 1, Bias: BiasRandom, Seed: 3},
		{Name: "zero_bias", NQ: 9, NK: 17, D: 6, DV: 5, Variance: 0.4, Bias: BiasZero, Seed: 4},
		{Name: "knorm_given", NQ: 9, NK: 17, D: 6, DV: 5, Variance: 0.4, KNorm: true, Seed: 4},
		{Name: "gmm_like", NQ: 2, NK: 48, D: 1024, DV: 1024, Variance: 4, Bias: BiasRandom, KNorm: true, Seed: 5},
		{Name: "gmm_like_one_query", NQ: 1, NK: 53, D: 515, DV: 515, Variance: 3, Seed: 6},
		{Name: "gmm_like_clustered", NQ: 4, NK: 50, D: 256, DV: 256, Variance: 0.01, Data: Clustered, KNorm: true, Seed: 7},
		{Name: "els_like", NQ: 300, NK: 501, D: 36, DV: 4, Variance: 1, Seed: 8},
		{Name: "els_like_clustered", NQ: 130, NK: 400, D: 100, DV: 4, Variance: 0.02, Data: Clustered, Seed: 9},
		{Name: "vae_like", NQ: 65, NK: 1000, D: 36, DV: 192, Variance: 0.5, Bias: BiasRandom, Seed: 10},
		{Name: "large_logits_grid", NQ: 40, NK: 60, D: 16, DV: 8, Variance: 1e-4, Data: Grid, KNorm: true, Seed: 11},
		{Name: "huge_bias", NQ: 20, NK: 70, D: 8, DV: 6, Variance: 1, Bias: BiasHuge, Seed: 12},
		{Name: "offset_cancellation", NQ: 33, NK: 40, D: 256, DV: 8, Variance: 0.05, Data: Offset, Seed: 13},
	}
}

// KeyNorms64 returns ‖k_j‖² for the NK rows of k (row length d), summed in
// float64 in order t = 0…d−1 and not rounded: AttentionArgs.KNorm64.
func KeyNorms64(k []float32, nk, d int) []float64 {
	out := make([]float64, nk)
	for j := range nk {
		var s float64
		for _, x := range k[j*d : (j+1)*d] {
			s += float64(float64(x) * float64(x))
		}
		out[j] = s
	}
	return out
}
