//go:build amd64 && !amd64.v3

package pmath

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMatchesMathBits: on amd64 without FMA (GOAMD64 v1 or v2, where the
// compiler does not fuse the math package's Go code) every function but Exp
// and Pow returns exactly math's bits, on the edges and nRandom random
// inputs: the same fdlibm/Cephes algorithm in the same order, so the
// accuracy is math's (< 1 ulp). Log and Lgamma (−log x for tiny x) are
// compared on normal inputs only: amd64's assembly math.Log does not
// normalise subnormals (math.Log(5e-324) = 709.09, not 744.44), this Log does.
func TestMatchesMathBits(t *testing.T) {
	t.Parallel()
	for _, f := range fns {
		if strings.HasPrefix(f.name, "Exp/") || f.name == "Exp" || strings.HasPrefix(f.name, "Pow") {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			check := func(x float64) {
				if strings.HasPrefix(f.name, "Lgamma") && x < 0 {
					return
				}
				if strings.HasPrefix(f.name, "Log/") || f.name == "Log" || strings.HasPrefix(f.name, "Lgamma") {
					if x != 0 && math.Abs(x) < 2.2250738585072014e-308 {
						return
					}
				}
				if (strings.HasPrefix(f.name, "Sin") || strings.HasPrefix(f.name, "Cos") || f.name == "Tan") && math.Abs(x) >= 1<<29 {
					return // math reduces these by Payne–Hanek
				}
				g, w := f.got(x), f.want(x)
				if math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
					t.Errorf("%s(%v) = %v (%#x), math: %v (%#x)", f.name, x, g, math.Float64bits(g), w, math.Float64bits(w))
				}
			}
			for _, x := range edges {
				check(x)
			}
			r := rand.New(rand.NewPCG(2, uint64(len(f.name))))
			for range nRandom {
				check(f.in(r))
			}
		})
	}
}
