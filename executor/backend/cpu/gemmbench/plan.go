package gemmbench

import (
	"fmt"
	"math"
	"time"
)

// Shape is one product C[M×N] = A[M×K]·B[N×K]ᵀ, run Count times.
type Shape struct {
	M, N, K int
	Count   int
}

// FLOPs returns 2·M·N·K·Count.
func (s Shape) FLOPs() float64 {
	return 2 * float64(s.M) * float64(s.N) * float64(s.K) * float64(s.Count)
}

// AttentionShapes returns the GEMM pair with the shapes and FLOP count of
// count attention calls NQ×NK with key width d and value width dv: S = Q·Kᵀ
// (NQ×NK×d) then O = S·V with V stored transposed (NQ×dv×NK).
func AttentionShapes(nq, nk, d, dv, count int) []Shape {
	return []Shape{{M: nq, N: nk, K: d, Count: count}, {M: nq, N: dv, K: nk, Count: count}}
}

// SquareEdge is the edge of the product Square repeats: 256³ (33.5 MFLOP,
// 768 KiB of operands) fits the L2 of current cores, so it measures the
// kernel rather than the memory bus.
const SquareEdge = 256

// Square returns the SquareEdge³ product repeated so that its FLOP count
// is the nearest multiple of one product to flops (at least one).
func Square(flops float64) Shape {
	s := Shape{M: SquareEdge, N: SquareEdge, K: SquareEdge, Count: 1}
	s.Count = max(1, int(math.Round(flops/s.FLOPs())))
	return s
}

// Plan is a list of shapes with their operands allocated once (filled with
// small deterministic values), ready to be timed.
type Plan struct {
	shapes []Shape
	ops    []operands
}

type operands struct{ a, b, c []float32 }

// NewPlan allocates the operands of every shape. Shapes with a
// non-positive dimension or count are rejected.
func NewPlan(shapes ...Shape) (*Plan, error) {
	p := &Plan{shapes: append([]Shape(nil), shapes...)}
	for _, s := range shapes {
		if s.M <= 0 || s.N <= 0 || s.K <= 0 || s.Count <= 0 {
			return nil, fmt.Errorf("plan gemm: bad shape %+v", s)
		}
		o := operands{a: fill(s.M*s.K, 1), b: fill(s.N*s.K, 2), c: make([]float32, s.M*s.N)}
		p.ops = append(p.ops, o)
	}
	return p, nil
}

// fill returns n values in [-1, 1) from a fixed xorshift stream.
func fill(n int, seed uint64) []float32 {
	x := seed*0x9e3779b97f4a7c15 + 1
	out := make([]float32, n)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = float32(x>>40)/(1<<23) - 1
	}
	return out
}

// FLOPs returns the plan's FLOP count, the sum over its shapes.
func (p *Plan) FLOPs() float64 {
	var f float64
	for _, s := range p.shapes {
		f += s.FLOPs()
	}
	return f
}

// Run computes every product of the plan once (each shape Count times).
func (p *Plan) Run() {
	for i, s := range p.shapes {
		o := p.ops[i]
		for range s.Count {
			NT(s.M, s.N, s.K, o.a, o.b, o.c)
		}
	}
}

// Time runs the plan once and returns the wall time it took.
func (p *Plan) Time() time.Duration {
	t0 := time.Now()
	p.Run()
	return time.Since(t0)
}

// GFLOPS returns flops/d in GFLOP/s (0 for a non-positive duration).
func GFLOPS(flops float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return flops / d.Seconds() / 1e9
}
