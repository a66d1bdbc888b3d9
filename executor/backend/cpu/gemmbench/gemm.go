package gemmbench

import (
	"runtime"
	"sync"
)

// NT computes C[m×n] = A[m×k]·B[n×k]ᵀ in float32 (all row-major): C split
// into tiles of 16 rows × nb columns (nb such that ~16 KiB of B stays in
// L1 while the rows pass over it), the tiles split into GOMAXPROCS
// contiguous runs, and 4×2 register tiles (8 accumulators) inside, written
// like the attention kernel. Each element is a plain in-order sum, so the
// result does not depend on the number of workers.
func NT(m, n, k int, a, b, c []float32) {
	const rb = 16
	nb := clamp(4096/max(k, 1), 2, 512) &^ 1
	rows, cols := ceilDiv(m, rb), ceilDiv(n, nb)
	tiles := rows * cols
	workers := min(runtime.GOMAXPROCS(0), tiles)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for t := w * tiles / workers; t < (w+1)*tiles/workers; t++ {
				i0, j0 := (t/cols)*rb, (t%cols)*nb
				block(a, b, c, k, n, i0, min(i0+rb, m), j0, min(j0+nb, n))
			}
		})
	}
	wg.Wait()
}

func block(a, b, c []float32, k, n, i0, i1, j0, j1 int) {
	row := func(x []float32, i int) []float32 { return x[i*k : (i+1)*k] }
	i := i0
	for ; i+3 < i1; i += 4 {
		a0, a1, a2, a3 := row(a, i), row(a, i+1), row(a, i+2), row(a, i+3)
		j := j0
		for ; j+1 < j1; j += 2 {
			b0, b1 := row(b, j), row(b, j+1)
			b0, b1 = b0[:len(a0)], b1[:len(a0)]
			a1, a2, a3 := a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			for t, x := range a0 {
				k0, k1 := b0[t], b1[t]
				c00 += x * k0
				c01 += x * k1
				x = a1[t]
				c10 += x * k0
				c11 += x * k1
				x = a2[t]
				c20 += x * k0
				c21 += x * k1
				x = a3[t]
				c30 += x * k0
				c31 += x * k1
			}
			c[i*n+j], c[i*n+j+1] = c00, c01
			c[(i+1)*n+j], c[(i+1)*n+j+1] = c10, c11
			c[(i+2)*n+j], c[(i+2)*n+j+1] = c20, c21
			c[(i+3)*n+j], c[(i+3)*n+j+1] = c30, c31
		}
		for ; j < j1; j++ {
			c[i*n+j] = dot(a0, row(b, j))
			c[(i+1)*n+j] = dot(a1, row(b, j))
			c[(i+2)*n+j] = dot(a2, row(b, j))
			c[(i+3)*n+j] = dot(a3, row(b, j))
		}
	}
	for ; i < i1; i++ { // remaining rows: 1×4 tiles, so that 1–3 rows still reuse each load
		a0 := row(a, i)
		j := j0
		for ; j+3 < j1; j += 4 {
			b0, b1, b2, b3 := row(b, j), row(b, j+1), row(b, j+2), row(b, j+3)
			b0, b1, b2, b3 = b0[:len(a0)], b1[:len(a0)], b2[:len(a0)], b3[:len(a0)]
			var c0, c1, c2, c3 float32
			for t, x := range a0 {
				c0 += x * b0[t]
				c1 += x * b1[t]
				c2 += x * b2[t]
				c3 += x * b3[t]
			}
			c[i*n+j], c[i*n+j+1], c[i*n+j+2], c[i*n+j+3] = c0, c1, c2, c3
		}
		for ; j < j1; j++ {
			c[i*n+j] = dot(a0, row(b, j))
		}
	}
}

func dot(x, y []float32) (s float32) {
	y = y[:len(x)]
	for t, v := range x {
		s += v * y[t]
	}
	return s
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
