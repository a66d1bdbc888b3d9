package gemmbench

import (
	"runtime"
	"testing"
)

// naiveNT is the triple loop NT must match bit for bit (same summation
// order per element).
func naiveNT(m, n, k int, a, b []float32) []float32 {
	c := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var s float32
			for t := range k {
				s += a[i*k+t] * b[j*k+t]
			}
			c[i*n+j] = s
		}
	}
	return c
}

func TestNT(t *testing.T) {
	for _, c := range []struct {
		name    string
		m, n, k int
	}{
		{"square", 8, 8, 8},
		{"odd", 7, 5, 3},
		{"tall", 37, 2, 11},
		{"few_rows", 3, 9, 13},
		{"one_row_wide_k", 1, 200, 1000},
		{"many_tiles", 40, 1100, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := fill(c.m*c.k, 3), fill(c.n*c.k, 4)
			want := naiveNT(c.m, c.n, c.k, a, b)
			for _, procs := range []int{1, 3} {
				prev := runtime.GOMAXPROCS(procs)
				got := make([]float32, c.m*c.n)
				NT(c.m, c.n, c.k, a, b, got)
				runtime.GOMAXPROCS(prev)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("GOMAXPROCS=%d: C[%d,%d] = %v, want %v", procs, i/c.n, i%c.n, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestFLOPs(t *testing.T) {
	tests := []struct {
		name   string
		shapes []Shape
		want   float64
	}{
		{"one", []Shape{{M: 2, N: 3, K: 4, Count: 1}}, 48},
		{"count", []Shape{{M: 2, N: 3, K: 4, Count: 5}}, 240},
		// 2·NQ·NK·(D+DV) = 2·2·200·(36+4)
		{"attention", AttentionShapes(2, 200, 36, 4, 1), 32000},
		{"attention_x3", AttentionShapes(2, 200, 36, 4, 3), 96000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(tc.shapes...)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.FLOPs(); got != tc.want {
				t.Fatalf("FLOPs = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSquare(t *testing.T) {
	one := Shape{M: SquareEdge, N: SquareEdge, K: SquareEdge, Count: 1}.FLOPs()
	tests := []struct {
		name  string
		flops float64
		count int
	}{
		{"tiny rounds up to one", 1, 1},
		{"exact", 3 * one, 3},
		{"nearest", 2.4 * one, 2},
		{"nearest up", 2.6 * one, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Square(tc.flops).Count; got != tc.count {
				t.Fatalf("Square(%v).Count = %d, want %d", tc.flops, got, tc.count)
			}
		})
	}
}

func TestNewPlanRejects(t *testing.T) {
	for _, s := range []Shape{{M: 0, N: 1, K: 1, Count: 1}, {M: 1, N: 1, K: 1, Count: 0}, {M: 1, N: -1, K: 1, Count: 1}} {
		if _, err := NewPlan(s); err == nil {
			t.Errorf("NewPlan(%+v): no error", s)
		}
	}
}

func TestPlanRunComputes(t *testing.T) {
	p, err := NewPlan(Shape{M: 5, N: 6, K: 7, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Time(); d <= 0 {
		t.Fatalf("Time = %v", d)
	}
	o := p.ops[0]
	want := naiveNT(5, 6, 7, o.a, o.b)
	for i := range want {
		if o.c[i] != want[i] {
			t.Fatalf("C[%d] = %v, want %v", i, o.c[i], want[i])
		}
	}
}

func TestGFLOPS(t *testing.T) {
	if got := GFLOPS(3e9, 1500e6); got != 2 {
		t.Fatalf("GFLOPS = %v, want 2", got)
	}
	if got := GFLOPS(1, 0); got != 0 {
		t.Fatalf("GFLOPS(d=0) = %v, want 0", got)
	}
}
