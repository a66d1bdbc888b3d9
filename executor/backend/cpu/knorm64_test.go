package cpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/backendtest"
)

// TestKNorm64SameBits: norms given in KNorm64 (summed by the caller as
// AttentionArgs documents, here by backendtest.KeyNorms64) give the bits of
// norms the backend sums itself, on the pure-Go kernels and on every vector
// kernel set this CPU runs, for few and many queries, with and without a
// bias and with keys of huge, tiny and mixed magnitude. A wrong norm
// (one ulp off) must change the output, or the test could not fail.
func TestKNorm64SameBits(t *testing.T) {
	t.Parallel()
	type kcase struct {
		nq, nk, d, dv int
		scale         float64 // keys' magnitude
		bias          bool
	}
	cases := []kcase{
		{16, 256, 196, 4, 1, true},   // an els tile (7×7 patches)
		{16, 200, 36, 4, 0.01, true}, // an els tile (3×3 patches), small keys
		{2, 48, 300, 300, 1, true},   // gmm: few queries, split by keys
		{1, 31, 17, 5, 1e15, false},  // huge keys
		{9, 23, 5, 3, 1e-20, false},  // tiny keys
		{40, 70, 9, 48, 3, true},     // many queries, wide values
	}
	kernels := append([]*simdKernels{nil}, allSIMD()...)
	for i, c := range cases {
		t.Run(fmt.Sprintf("nq%d-nk%d-d%d", c.nq, c.nk, c.d), func(t *testing.T) {
			t.Parallel()
			args := func() *backend.AttentionArgs {
				r := rand.New(rand.NewPCG(uint64(i), 64))
				fill := func(n int, s float64) []float32 {
					xs := make([]float32, n)
					for k := range xs {
						xs[k] = float32(s * r.NormFloat64())
					}
					return xs
				}
				a := &backend.AttentionArgs{NQ: c.nq, NK: c.nk, D: c.d, DV: c.dv, Variance: float32(0.1 * c.scale * c.scale),
					Q: fill(c.nq*c.d, c.scale), K: fill(c.nk*c.d, c.scale), V: fill(c.nk*c.dv, 1), Out: make([]float32, c.nq*c.dv)}
				if c.bias {
					a.Bias = fill(c.nk, 1)
				}
				return a
			}
			for _, k := range kernels {
				name := "pure-Go"
				if k != nil {
					name = k.name
				}
				b := New()
				b.simd = k
				want := args()
				if err := b.Attention(context.Background(), want); err != nil {
					t.Fatal(err)
				}
				got := args()
				got.KNorm64 = backendtest.KeyNorms64(got.K, c.nk, c.d)
				if err := b.Attention(context.Background(), got); err != nil {
					t.Fatal(err)
				}
				for o := range want.Out {
					if math.Float32bits(got.Out[o]) != math.Float32bits(want.Out[o]) {
						t.Fatalf("%s: out[%d] = %v with KNorm64, %v without", name, o, got.Out[o], want.Out[o])
					}
				}
				// The norms are used: nudging every one changes the output.
				off := args()
				off.KNorm64 = backendtest.KeyNorms64(off.K, c.nk, c.d)
				for j := range off.KNorm64 {
					off.KNorm64[j] *= 1.01
				}
				if err := b.Attention(context.Background(), off); err != nil {
					t.Fatal(err)
				}
				same := true
				for o := range want.Out {
					same = same && math.Float32bits(off.Out[o]) == math.Float32bits(want.Out[o])
				}
				if same {
					t.Fatalf("%s: norms 1%% off left every output bit unchanged: KNorm64 is ignored", name)
				}
			}
		})
	}
}
