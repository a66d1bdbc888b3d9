package cpu

// Weighted sum against V transposed (wide V rows, many queries): the
// weights P[r, j0:j1] and the transposed values Vᵀ[c, j0:j1] are both
// contiguous, so the tile is the dot-product form of the distance pass,
// 4 weight rows × 2 value columns, and the block of Vᵀ stays in cache while
// every row group passes over it. Each output element still adds p_j·v_j
// for j in order into one float64 accumulator (carried across blocks in
// memory), so the bits are those of pvBlock and the axpy path.

func pvt4x2(a0, a1, a2, a3, b0, b1 []float64, o0, o1, o2, o3 []float64) {
	n := len(a0)
	a1, a2, a3 = a1[:n], a2[:n], a3[:n]
	b0, b1 = b0[:n], b1[:n]
	o0, o1, o2, o3 = o0[:2], o1[:2], o2[:2], o3[:2]
	c00, c01, c10, c11 := o0[0], o0[1], o1[0], o1[1]
	c20, c21, c30, c31 := o2[0], o2[1], o3[0], o3[1]
	for t := 0; t < n; t++ {
		k0, k1 := b0[t], b1[t]
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
	o0[0], o0[1], o1[0], o1[1] = c00, c01, c10, c11
	o2[0], o2[1], o3[0], o3[1] = c20, c21, c30, c31
}

func pvt1x2(a0, b0, b1 []float64, o0 []float64) {
	n := len(a0)
	b0, b1 = b0[:n], b1[:n]
	o0 = o0[:2]
	c0, c1 := o0[0], o0[1]
	for t := 0; t < n; t++ {
		x := a0[t]
		c0 = madd(x, b0[t], c0)
		c1 = madd(x, b1[t], c1)
	}
	o0[0], o0[1] = c0, c1
}

func pvt1x1(a0, b0 []float64, o0 []float64) {
	n := len(a0)
	b0 = b0[:n]
	c := o0[0]
	for t := 0; t < n; t++ {
		c = madd(a0[t], b0[t], c)
	}
	o0[0] = c
}

// pvtBlock adds P[:, j0:j1]·V[j0:j1, :] into the nr accumulator rows o
// (row stride dv), with vt = Vᵀ (row stride nk) and P row stride ldp.
func pvtBlock(p []float64, ldp, nr, j0, j1 int, vt []float64, nk, dv int, o []float64) {
	prow := func(r int) []float64 { return p[r*ldp+j0 : r*ldp+j1] }
	vrow := func(c int) []float64 { return vt[c*nk+j0 : c*nk+j1] }
	orow := func(r int) []float64 { return o[r*dv : (r+1)*dv] }
	r := 0
	for ; r+3 < nr; r += 4 {
		a0, a1, a2, a3 := prow(r), prow(r+1), prow(r+2), prow(r+3)
		o0, o1, o2, o3 := orow(r), orow(r+1), orow(r+2), orow(r+3)
		c := 0
		for ; c+1 < dv; c += 2 {
			pvt4x2(a0, a1, a2, a3, vrow(c), vrow(c+1), o0[c:], o1[c:], o2[c:], o3[c:])
		}
		if c < dv {
			for i, a := range [][]float64{a0, a1, a2, a3} {
				pvt1x1(a, vrow(c), orow(r + i)[c:])
			}
		}
	}
	for ; r < nr; r++ {
		a0, o0 := prow(r), orow(r)
		c := 0
		for ; c+1 < dv; c += 2 {
			pvt1x2(a0, vrow(c), vrow(c+1), o0[c:])
		}
		if c < dv {
			pvt1x1(a0, vrow(c), o0[c:])
		}
	}
}

// transposeWide returns Vᵀ widened to float64 (from the pool): [dv, nk].
func (b *Backend) transposeWide(v []float32, nk, dv int) *[]float64 {
	w, _ := b.vpool.Get().(*[]float64)
	if w == nil {
		w = new([]float64)
	}
	*w = grow(*w, nk*dv)
	t := *w
	// Blocks of 16 keys × all columns keep both sides within a few lines.
	for j0 := 0; j0 < nk; j0 += 16 {
		j1 := min(j0+16, nk)
		for c := range dv {
			dst := t[c*nk+j0 : c*nk+j1]
			for j := range dst {
				dst[j] = float64(v[(j0+j)*dv+c])
			}
		}
	}
	return w
}
