package cpu

// Dot-product micro-kernels of the distance pass. Each returns the dot
// products of float64 query rows (packed once per block) with float32 key
// rows, every product summed into its own float64 accumulator in the order
// t = 0, 1, …, len−1. Because each pair's order is the same in every kernel,
// the tiling (and so the blocking and the number of workers) never changes
// a single bit of the result. Products of float32 values are exact in
// float64, so a fused multiply-add would round the same way; the explicit
// conversions make that independence from the compiler explicit.
//
// The 4×2 tile keeps 8 accumulators, 2 keys and 1 query value in registers
// (amd64 has 15 usable), loading 6 values and converting 2 per 8 products.

func dot4x2(a0, a1, a2, a3 []float64, b0, b1 []float32) (c00, c01, c10, c11, c20, c21, c30, c31 float64) {
	n := len(a0)
	a1, a2, a3 = a1[:n], a2[:n], a3[:n]
	b0, b1 = b0[:n], b1[:n]
	for t := 0; t < n; t++ {
		k0, k1 := float64(b0[t]), float64(b1[t])
		x := a0[t]
		c00 += float64(x * k0)
		c01 += float64(x * k1)
		x = a1[t]
		c10 += float64(x * k0)
		c11 += float64(x * k1)
		x = a2[t]
		c20 += float64(x * k0)
		c21 += float64(x * k1)
		x = a3[t]
		c30 += float64(x * k0)
		c31 += float64(x * k1)
	}
	return
}

func dot4x1(a0, a1, a2, a3 []float64, b0 []float32) (c0, c1, c2, c3 float64) {
	n := len(a0)
	a1, a2, a3 = a1[:n], a2[:n], a3[:n]
	b0 = b0[:n]
	for t := 0; t < n; t++ {
		k0 := float64(b0[t])
		c0 += float64(a0[t] * k0)
		c1 += float64(a1[t] * k0)
		c2 += float64(a2[t] * k0)
		c3 += float64(a3[t] * k0)
	}
	return
}

func dot2x2(a0, a1 []float64, b0, b1 []float32) (c00, c01, c10, c11 float64) {
	n := len(a0)
	a1 = a1[:n]
	b0, b1 = b0[:n], b1[:n]
	for t := 0; t < n; t++ {
		k0, k1 := float64(b0[t]), float64(b1[t])
		x := a0[t]
		c00 += float64(x * k0)
		c01 += float64(x * k1)
		x = a1[t]
		c10 += float64(x * k0)
		c11 += float64(x * k1)
	}
	return
}

func dot2x1(a0, a1 []float64, b0 []float32) (c0, c1 float64) {
	n := len(a0)
	a1 = a1[:n]
	b0 = b0[:n]
	for t := 0; t < n; t++ {
		k0 := float64(b0[t])
		c0 += float64(a0[t] * k0)
		c1 += float64(a1[t] * k0)
	}
	return
}

// dot1x4 serves a lone query row (gmm with one image and cfg 1): four keys
// per pass over it.
func dot1x4(a0 []float64, b0, b1, b2, b3 []float32) (c0, c1, c2, c3 float64) {
	n := len(a0)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	for t := 0; t < n; t++ {
		x := a0[t]
		c0 += float64(x * float64(b0[t]))
		c1 += float64(x * float64(b1[t]))
		c2 += float64(x * float64(b2[t]))
		c3 += float64(x * float64(b3[t]))
	}
	return
}

func dot1x1(a0 []float64, b0 []float32) (c float64) {
	n := len(a0)
	b0 = b0[:n]
	for t := 0; t < n; t++ {
		c += float64(a0[t] * float64(b0[t]))
	}
	return
}

// sqNorm64 returns Σ x_t² in float64, in order.
func sqNorm64(x []float64) (s float64) {
	for _, v := range x {
		s += float64(v * v)
	}
	return
}

// sqNorm32 returns Σ x_t² of a float32 row, accumulated in float64 in order.
func sqNorm32(x []float32) (s float64) {
	for _, v := range x {
		w := float64(v)
		s += float64(w * w)
	}
	return
}
