package cpu

// Weighted-sum (P·V) kernels. Every output element is one float64
// accumulator that adds p_j·v_j for j = 0, 1, …, NK−1 in order, in the
// register-tiled kernels and in the axpy kernels alike, so which of them
// runs (and how the work is split) never changes a bit of the result. The
// weights are float32 values (widened) and so are the values, so every
// product is exact in float64 and madd rounds the same with or without FMA.
// The sum then costs ~1e-16 relative, and the output's error is that of
// the float32 weights, ~6e-8.

// pv2x4 adds the weighted sums of two weight rows over a 4-column strip of
// v (row stride ldv, starting at column 0 of v) into o0[:4] and o1[:4].
func pv2x4[V key](p0, p1 []float64, v []V, ldv int, o0, o1 []float64) {
	n := len(p0)
	p1 = p1[:n]
	o0, o1 = o0[:4], o1[:4]
	c00, c01, c02, c03 := o0[0], o0[1], o0[2], o0[3]
	c10, c11, c12, c13 := o1[0], o1[1], o1[2], o1[3]
	off := 0
	for j := 0; j < n; j++ {
		vj := v[off : off+4 : off+4]
		v0, v1, v2, v3 := float64(vj[0]), float64(vj[1]), float64(vj[2]), float64(vj[3])
		x := p0[j]
		c00 = madd(x, v0, c00)
		c01 = madd(x, v1, c01)
		c02 = madd(x, v2, c02)
		c03 = madd(x, v3, c03)
		x = p1[j]
		c10 = madd(x, v0, c10)
		c11 = madd(x, v1, c11)
		c12 = madd(x, v2, c12)
		c13 = madd(x, v3, c13)
		off += ldv
	}
	o0[0], o0[1], o0[2], o0[3] = c00, c01, c02, c03
	o1[0], o1[1], o1[2], o1[3] = c10, c11, c12, c13
}

func pv1x4[V key](p0 []float64, v []V, ldv int, o0 []float64) {
	n := len(p0)
	o0 = o0[:4]
	c0, c1, c2, c3 := o0[0], o0[1], o0[2], o0[3]
	off := 0
	for j := 0; j < n; j++ {
		vj := v[off : off+4 : off+4]
		x := p0[j]
		c0 = madd(x, float64(vj[0]), c0)
		c1 = madd(x, float64(vj[1]), c1)
		c2 = madd(x, float64(vj[2]), c2)
		c3 = madd(x, float64(vj[3]), c3)
		off += ldv
	}
	o0[0], o0[1], o0[2], o0[3] = c0, c1, c2, c3
}

func pv2x1[V key](p0, p1 []float64, v []V, ldv int, o0, o1 []float64) {
	n := len(p0)
	p1 = p1[:n]
	c0, c1 := o0[0], o1[0]
	off := 0
	for j := 0; j < n; j++ {
		x := float64(v[off])
		c0 = madd(p0[j], x, c0)
		c1 = madd(p1[j], x, c1)
		off += ldv
	}
	o0[0], o1[0] = c0, c1
}

func pv1x1[V key](p0 []float64, v []V, ldv int, o0 []float64) {
	c := o0[0]
	off := 0
	for _, x := range p0 {
		c = madd(x, float64(v[off]), c)
		off += ldv
	}
	o0[0] = c
}

// pvBlock adds P[:, j0:j1]·V[j0:j1, c0:c1] into the nr accumulator rows o
// (row stride ldo), weights row stride ldp, in register tiles of 2×4. V is
// a.V itself, or a.V widened to float64 once when many query blocks read it.
func pvBlock[V key](p []float64, ldp, nr, j0, j1 int, v []V, ldv, c0, c1 int, o []float64, ldo int) {
	r := 0
	for ; r+1 < nr; r += 2 {
		p0 := p[r*ldp+j0 : r*ldp+j1]
		p1 := p[(r+1)*ldp+j0 : (r+1)*ldp+j1]
		o0 := o[r*ldo : (r+1)*ldo]
		o1 := o[(r+1)*ldo : (r+2)*ldo]
		c := c0
		for ; c+3 < c1; c += 4 {
			pv2x4(p0, p1, v[j0*ldv+c:], ldv, o0[c:c+4], o1[c:c+4])
		}
		for ; c < c1; c++ {
			pv2x1(p0, p1, v[j0*ldv+c:], ldv, o0[c:c+1], o1[c:c+1])
		}
	}
	if r < nr {
		p0 := p[r*ldp+j0 : r*ldp+j1]
		o0 := o[r*ldo : (r+1)*ldo]
		c := c0
		for ; c+3 < c1; c += 4 {
			pv1x4(p0, v[j0*ldv+c:], ldv, o0[c:c+4])
		}
		for ; c < c1; c++ {
			pv1x1(p0, v[j0*ldv+c:], ldv, o0[c:c+1])
		}
	}
}

// axpy2 adds p0·v into o0 and p1·v into o1, element by element, widening v
// as it goes (the orientation for few rows and wide, often power-of-two V
// rows, where a strided column walk would thrash the cache sets and
// widening V up front would cost as much as the sum).
func axpy2(p0, p1 float64, v []float32, o0, o1 []float64) {
	n := len(v)
	o0, o1 = o0[:n], o1[:n]
	for c, x := range v {
		w := float64(x)
		o0[c] = madd(p0, w, o0[c])
		o1[c] = madd(p1, w, o1[c])
	}
}

// axpy4 is axpy2 for four rows (a cond/uncond pair of a batch of two):
// V is read once for all four.
func axpy4(p0, p1, p2, p3 float64, v []float32, o0, o1, o2, o3 []float64) {
	n := len(v)
	o0, o1, o2, o3 = o0[:n], o1[:n], o2[:n], o3[:n]
	for c, x := range v {
		w := float64(x)
		o0[c] = madd(p0, w, o0[c])
		o1[c] = madd(p1, w, o1[c])
		o2[c] = madd(p2, w, o2[c])
		o3[c] = madd(p3, w, o3[c])
	}
}

func axpy1(p0 float64, v []float32, o0 []float64) {
	o0 = o0[:len(v)]
	for c, x := range v {
		o0[c] = madd(p0, float64(x), o0[c])
	}
}
