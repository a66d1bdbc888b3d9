package cpu

// Dot-product micro-kernels of the distance pass. Each returns the dot
// products of float64 query rows (packed once per block) with float32 key
// rows, every product summed into its own float64 accumulator in the order
// t = 0, 1, …, len−1. Because each pair's order is the same in every kernel,
// the tiling (and so the blocking and the number of workers) never changes
// a single bit of the result. The query rows hold float32 values widened to
// float64, so every product is exact and madd (an FMA or not, depending on
// the build) rounds the same way.
//
// Keys come as float32 (few queries: each key is read once or twice) or
// widened to float64 once per call (many queries: each key is read by
// every query block, and the widening then costs nothing per product).
//
// The 4×2 tile keeps 8 accumulators, 2 keys and 1 query value in registers
// (amd64 has 15 usable), loading 6 values and converting 2 per 8 products.

// key is the element type of the key rows.
type key interface{ float32 | float64 }

func dot4x2[K key](a0, a1, a2, a3 []float64, b0, b1 []K) (c00, c01, c10, c11, c20, c21, c30, c31 float64) {
	n := len(a0)
	a1, a2, a3 = a1[:n], a2[:n], a3[:n]
	b0, b1 = b0[:n], b1[:n]
	for t := 0; t < n; t++ {
		k0, k1 := float64(b0[t]), float64(b1[t])
		x := a0[t]
		c00 = madd(x, k0, c00)
		c01 = madd(x, k1, c01)
		x = a1[t]
		c10 = madd(x, k0, c10)
		c11 = madd(x, k1, c11)
		x = a2[t]
		c20 = madd(x, k0, c20)
		c21 = madd(x, k1, c21)
		x = a3[t]
		c30 = madd(x, k0, c30)
		c31 = madd(x, k1, c31)
	}
	return
}

func dot4x1[K key](a0, a1, a2, a3 []float64, b0 []K) (c0, c1, c2, c3 float64) {
	n := len(a0)
	a1, a2, a3 = a1[:n], a2[:n], a3[:n]
	b0 = b0[:n]
	for t := 0; t < n; t++ {
		k0 := float64(b0[t])
		c0 = madd(a0[t], k0, c0)
		c1 = madd(a1[t], k0, c1)
		c2 = madd(a2[t], k0, c2)
		c3 = madd(a3[t], k0, c3)
	}
	return
}

func dot2x2[K key](a0, a1 []float64, b0, b1 []K) (c00, c01, c10, c11 float64) {
	n := len(a0)
	a1 = a1[:n]
	b0, b1 = b0[:n], b1[:n]
	for t := 0; t < n; t++ {
		k0, k1 := float64(b0[t]), float64(b1[t])
		x := a0[t]
		c00 = madd(x, k0, c00)
		c01 = madd(x, k1, c01)
		x = a1[t]
		c10 = madd(x, k0, c10)
		c11 = madd(x, k1, c11)
	}
	return
}

func dot2x1[K key](a0, a1 []float64, b0 []K) (c0, c1 float64) {
	n := len(a0)
	a1 = a1[:n]
	b0 = b0[:n]
	for t := 0; t < n; t++ {
		k0 := float64(b0[t])
		c0 = madd(a0[t], k0, c0)
		c1 = madd(a1[t], k0, c1)
	}
	return
}

// dot1x4 serves a lone query row (gmm with one image and cfg 1): four keys
// per pass over it.
func dot1x4[K key](a0 []float64, b0, b1, b2, b3 []K) (c0, c1, c2, c3 float64) {
	n := len(a0)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	for t := 0; t < n; t++ {
		x := a0[t]
		c0 = madd(x, float64(b0[t]), c0)
		c1 = madd(x, float64(b1[t]), c1)
		c2 = madd(x, float64(b2[t]), c2)
		c3 = madd(x, float64(b3[t]), c3)
	}
	return
}

func dot1x1[K key](a0 []float64, b0 []K) (c float64) {
	n := len(a0)
	b0 = b0[:n]
	for t := 0; t < n; t++ {
		c = madd(a0[t], float64(b0[t]), c)
	}
	return
}

// sqNorm64 returns Σ x_t² in float64, in order.
func sqNorm64(x []float64) (s float64) {
	for _, v := range x {
		s = madd(v, v, s)
	}
	return
}

// sqNorm32 returns Σ x_t² of a float32 row, accumulated in float64 in order.
func sqNorm32(x []float32) (s float64) {
	for _, v := range x {
		w := float64(v)
		s = madd(w, w, s)
	}
	return
}

// sqNorm32x4 returns sqNorm32 of four rows of the same length, each summed
// in its own accumulator in order (the same bits as four sqNorm32 calls).
func sqNorm32x4(x0, x1, x2, x3 []float32) (s0, s1, s2, s3 float64) {
	n := len(x0)
	x1, x2, x3 = x1[:n], x2[:n], x3[:n]
	for t := 0; t < n; t++ {
		w0, w1, w2, w3 := float64(x0[t]), float64(x1[t]), float64(x2[t]), float64(x3[t])
		s0 = madd(w0, w0, s0)
		s1 = madd(w1, w1, s1)
		s2 = madd(w2, w2, s2)
		s3 = madd(w3, w3, s3)
	}
	return
}
