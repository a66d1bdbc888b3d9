package cpu

import (
	"context"
)

// keyTerms fills c.kc[j0:j1] with ‖k_j‖²/(2·Variance) − Bias[j], the norm
// from a.KNorm64 or a.KNorm when given, else summed in float64 in order.
func (c *call) keyTerms(j0, j1 int) {
	a := c.a
	if a.KNorm64 != nil {
		// The caller's sums are the ones computed below (sqNorm32), so
		// the terms have the same bits.
		for j := j0; j < j1; j++ {
			c.kc[j] = c.keyTerm(a.KNorm64[j], j)
		}
		return
	}
	j := j0
	if a.KNorm == nil && c.norms != nil {
		// Eight keys at a time on the vector kernel (lanes = keys), the
		// last D mod 4 terms in Go: each norm still sums t = 0…D−1 in
		// order from zero, exact products, so the bits are sqNorm32's.
		d := a.D
		n := d &^ 3
		for ; j+7 < j1; j += 8 {
			var acc [8]float64
			if n > 0 {
				c.norms(&a.K[j*d], d, n, &acc)
			}
			for i, s := range acc {
				for _, x := range a.K[(j+i)*d+n : (j+i+1)*d] {
					w := float64(x)
					s = madd(w, w, s)
				}
				c.kc[j+i] = c.keyTerm(s, j+i)
			}
		}
	}
	if a.KNorm == nil {
		// Four keys at a time: four independent sums in flight instead of
		// one latency-bound chain, each still in order t = 0…D−1.
		krow := func(j int) []float32 { return a.K[j*a.D : (j+1)*a.D] }
		for ; j+3 < j1; j += 4 {
			n0, n1, n2, n3 := sqNorm32x4(krow(j), krow(j+1), krow(j+2), krow(j+3))
			c.kc[j], c.kc[j+1], c.kc[j+2], c.kc[j+3] = c.keyTerm(n0, j), c.keyTerm(n1, j+1), c.keyTerm(n2, j+2), c.keyTerm(n3, j+3)
		}
	}
	for ; j < j1; j++ {
		var kn float64
		if a.KNorm != nil {
			kn = float64(a.KNorm[j])
		} else {
			kn = sqNorm32(a.K[j*a.D : (j+1)*a.D])
		}
		c.kc[j] = c.keyTerm(kn, j)
	}
}

// keyTerm returns ‖k_j‖²/(2·Variance) − Bias[j] from the norm kn.
func (c *call) keyTerm(kn float64, j int) float64 {
	kc := float64(kn * c.inv2v)
	if c.a.Bias != nil {
		kc -= float64(c.a.Bias[j])
	}
	return kc
}

// packQueries converts query rows [i0, i0+nr) to float64 into q64 and puts
// ‖q_i‖²/(2·Variance) into qc.
func (c *call) packQueries(i0, nr int, q64, qc []float64) {
	d := c.a.D
	for r := range nr {
		src := c.a.Q[(i0+r)*d : (i0+r+1)*d]
		dst := q64[r*d : (r+1)*d]
		for t, x := range src {
			dst[t] = float64(x)
		}
		qc[r] = float64(sqNorm64(dst) * c.inv2v)
	}
}

// logit turns one dot product into a logit:
//
//	−‖q − k‖²/(2v) + b = ⟨q,k⟩/v − (‖q‖²/(2v) + (‖k‖²/(2v) − b)).
//
// The terms are float64 with ~1e-16 relative error each, so the cancellation
// when q ≈ k costs ~1e-16·‖q‖²/v absolute, where float32 would cost ~1e-7.
func (c *call) logit(qc, dot float64, j int) float64 {
	return float64(dot*c.invV) - (qc + c.kc[j])
}

// logits writes the logits of the nr packed query rows q64 (terms qn)
// against keys [j0, j1) of keys (a.K, or a.K widened) into l[r*ldl+j],
// blocking the keys by pl.keys so that a block stays in L1 while all rows
// pass over it.
func logits[K key](c *call, keys []K, q64, qn []float64, nr, j0, j1 int, l []float64, ldl int) {
	d := c.a.D
	krow := func(j int) []K { return keys[j*d : (j+1)*d] }
	qrow := func(r int) []float64 { return q64[r*d : (r+1)*d] }
	for jb := j0; jb < j1; jb += c.pl.keys {
		je := min(jb+c.pl.keys, j1)
		r := 0
		for ; r+3 < nr; r += 4 {
			a0, a1, a2, a3 := qrow(r), qrow(r+1), qrow(r+2), qrow(r+3)
			l0, l1, l2, l3 := l[r*ldl:], l[(r+1)*ldl:], l[(r+2)*ldl:], l[(r+3)*ldl:]
			j := jb
			for ; j+1 < je; j += 2 {
				c00, c01, c10, c11, c20, c21, c30, c31 := dot4x2(a0, a1, a2, a3, krow(j), krow(j+1))
				l0[j], l0[j+1] = c.logit(qn[r], c00, j), c.logit(qn[r], c01, j+1)
				l1[j], l1[j+1] = c.logit(qn[r+1], c10, j), c.logit(qn[r+1], c11, j+1)
				l2[j], l2[j+1] = c.logit(qn[r+2], c20, j), c.logit(qn[r+2], c21, j+1)
				l3[j], l3[j+1] = c.logit(qn[r+3], c30, j), c.logit(qn[r+3], c31, j+1)
			}
			if j < je {
				c0, c1, c2, c3 := dot4x1(a0, a1, a2, a3, krow(j))
				l0[j], l1[j] = c.logit(qn[r], c0, j), c.logit(qn[r+1], c1, j)
				l2[j], l3[j] = c.logit(qn[r+2], c2, j), c.logit(qn[r+3], c3, j)
			}
		}
		for ; r+1 < nr; r += 2 {
			a0, a1 := qrow(r), qrow(r+1)
			l0, l1 := l[r*ldl:], l[(r+1)*ldl:]
			j := jb
			for ; j+1 < je; j += 2 {
				c00, c01, c10, c11 := dot2x2(a0, a1, krow(j), krow(j+1))
				l0[j], l0[j+1] = c.logit(qn[r], c00, j), c.logit(qn[r], c01, j+1)
				l1[j], l1[j+1] = c.logit(qn[r+1], c10, j), c.logit(qn[r+1], c11, j+1)
			}
			if j < je {
				c0, c1 := dot2x1(a0, a1, krow(j))
				l0[j], l1[j] = c.logit(qn[r], c0, j), c.logit(qn[r+1], c1, j)
			}
		}
		if r < nr {
			a0 := qrow(r)
			l0 := l[r*ldl:]
			j := jb
			for ; j+3 < je; j += 4 {
				c0, c1, c2, c3 := dot1x4(a0, krow(j), krow(j+1), krow(j+2), krow(j+3))
				l0[j], l0[j+1] = c.logit(qn[r], c0, j), c.logit(qn[r], c1, j+1)
				l0[j+2], l0[j+3] = c.logit(qn[r], c2, j+2), c.logit(qn[r], c3, j+3)
			}
			for ; j < je; j++ {
				l0[j] = c.logit(qn[r], dot1x1(a0, krow(j)), j)
			}
		}
	}
}

// normalize writes an accumulator row divided by its weight sum to out.
func normalize(out []float32, acc []float64, s float64) {
	acc = acc[:len(out)]
	for c, x := range acc {
		out[c] = float32(x / s)
	}
}

// widen returns v as float64 (from the pool), for keys and values that
// every query block reads again.
func (b *Backend) widen(v []float32) *[]float64 {
	w, _ := b.vpool.Get().(*[]float64)
	if w == nil {
		w = new([]float64)
	}
	*w = grow(*w, len(v))
	for i, x := range v {
		(*w)[i] = float64(x)
	}
	return w
}

// attendMany splits the queries into blocks of pl.rows rows; one goroutine
// does all of a block: logits, softmax, weighted sum.
func (b *Backend) attendMany(ctx context.Context, c *call) error {
	if b.simd != nil && c.a.D > 0 {
		return b.attendManySIMD(ctx, c, b.simd)
	}
	a := c.a
	c.kc = make([]float64, a.NK)
	nt := c.pl.normRun
	if err := b.parallel(ctx, c.pl.workers, ceilDiv(a.NK, nt), func(_ *scratch, t int) {
		c.keyTerms(t*nt, min((t+1)*nt, a.NK))
	}); err != nil {
		return err
	}
	if c.pl.widen {
		k64 := b.widen(a.K[:a.NK*a.D])
		defer b.vpool.Put(k64)
		if c.pl.transpose {
			vt := b.transposeWide(a.V, a.NK, a.DV)
			defer b.vpool.Put(vt)
			c.vt = *vt
			return attendBlocks(ctx, b, c, *k64, a.V)
		}
		v64 := b.widen(a.V[:a.NK*a.DV])
		defer b.vpool.Put(v64)
		return attendBlocks(ctx, b, c, *k64, *v64)
	}
	return attendBlocks(ctx, b, c, a.K, a.V)
}

// attendBlocks runs the query blocks of attendMany over keys and values
// given as float32 (a.K, a.V) or widened to float64, or with c.vt (V
// transposed and widened) in place of vals.
func attendBlocks[K, V key](ctx context.Context, b *Backend, c *call, keys []K, vals []V) error {
	a := c.a
	rows := c.pl.rows
	n := ceilDiv(a.NQ, rows)
	return b.parallel(ctx, c.pl.workers, n, func(s *scratch, t int) {
		i0 := t * rows
		nr := min(rows, a.NQ-i0)
		s.q64 = grow(s.q64, nr*a.D)
		s.qn = grow(s.qn, nr)
		s.l = grow(s.l, nr*a.NK)
		s.sum = grow(s.sum, nr)
		s.acc = grow(s.acc, nr*a.DV)
		c.packQueries(i0, nr, s.q64, s.qn)
		logits(c, keys, s.q64, s.qn, nr, 0, a.NK, s.l, a.NK)
		for r := range nr {
			row := s.l[r*a.NK : (r+1)*a.NK]
			s.sum[r] = softmaxRow(row, row) // weights overwrite their logits
		}
		clear(s.acc)
		for jb := 0; jb < a.NK; jb += c.pl.pvKeys {
			je := min(jb+c.pl.pvKeys, a.NK)
			if c.vt != nil {
				pvtBlock(s.l, a.NK, nr, jb, je, c.vt, a.NK, a.DV, s.acc)
			} else {
				pvBlock(s.l, a.NK, nr, jb, je, vals, a.DV, 0, a.DV, s.acc, a.DV)
			}
		}
		for r := range nr {
			normalize(a.Out[(i0+r)*a.DV:(i0+r+1)*a.DV], s.acc[r*a.DV:(r+1)*a.DV], s.sum[r])
		}
	})
}

// attendFew serves few queries: the logits are split by keys (each task
// computes its keys' terms, then their logits for every query), the softmax
// runs per row, and the weighted sum is split by output columns (each task
// runs over all keys for its columns, row-wise so that V streams
// contiguously).
func (b *Backend) attendFew(ctx context.Context, c *call) error {
	a := c.a
	c.kc = make([]float64, a.NK)
	c.q64 = make([]float64, a.NQ*a.D)
	c.qn = make([]float64, a.NQ)
	c.l = make([]float64, a.NQ*a.NK) // logits, then weights
	c.sum = make([]float64, a.NQ)
	c.packQueries(0, a.NQ, c.q64, c.qn)
	kb := c.pl.keys
	err := b.parallel(ctx, c.pl.workers, ceilDiv(a.NK, kb), func(_ *scratch, t int) {
		j0, j1 := t*kb, min((t+1)*kb, a.NK)
		c.keyTerms(j0, j1)
		if sk := b.simd; sk != nil && sk.dots != nil {
			sk.logitsFew(c, j0, j1)
			return
		}
		logits(c, a.K, c.q64, c.qn, a.NQ, j0, j1, c.l, a.NK)
	})
	if err != nil {
		return err
	}
	for r := range a.NQ {
		row := c.l[r*a.NK : (r+1)*a.NK]
		c.sum[r] = softmaxRow(row, row)
	}
	cb := c.pl.cols
	ax2, ax4 := axpy2, axpy4
	if k := b.simd; k != nil {
		ax2, ax4 = k.axpy2s, k.axpy4s
	}
	return b.parallel(ctx, c.pl.workers, ceilDiv(a.DV, cb), func(s *scratch, t int) {
		c0, c1 := t*cb, min((t+1)*cb, a.DV)
		w := c1 - c0
		s.acc = grow(s.acc, 4*w)
		o0, o1, o2, o3 := s.acc[:w], s.acc[w:2*w], s.acc[2*w:3*w], s.acc[3*w:]
		out := func(r int) []float32 { return a.Out[r*a.DV+c0 : r*a.DV+c1] }
		prow := func(r int) []float64 { return c.l[r*a.NK : (r+1)*a.NK] }
		r := 0
		for ; r+3 < a.NQ; r += 4 {
			clear(s.acc)
			p0, p1, p2, p3 := prow(r), prow(r+1), prow(r+2), prow(r+3)
			for j := range a.NK {
				ax4(p0[j], p1[j], p2[j], p3[j], a.V[j*a.DV+c0:j*a.DV+c1], o0, o1, o2, o3)
			}
			normalize(out(r), o0, c.sum[r])
			normalize(out(r+1), o1, c.sum[r+1])
			normalize(out(r+2), o2, c.sum[r+2])
			normalize(out(r+3), o3, c.sum[r+3])
		}
		for ; r+1 < a.NQ; r += 2 {
			clear(s.acc)
			p0, p1 := prow(r), prow(r+1)
			for j := range a.NK {
				ax2(p0[j], p1[j], a.V[j*a.DV+c0:j*a.DV+c1], o0, o1)
			}
			normalize(out(r), o0, c.sum[r])
			normalize(out(r+1), o1, c.sum[r+1])
		}
		if r < a.NQ {
			clear(o0)
			p0 := prow(r)
			if k := b.simd; k != nil {
				// A lone row (the gmm model's one query): the vector axpy2
				// with a second row of weight 0 into o1, which is thrown
				// away. Each lane of o0 does axpy1's madd sequence, so o0
				// gets axpy1's bits, ~3× faster than the scalar loop.
				for j := range a.NK {
					k.axpy2s(p0[j], 0, a.V[j*a.DV+c0:j*a.DV+c1], o0, o1)
				}
			} else {
				for j := range a.NK {
					axpy1(p0[j], a.V[j*a.DV+c0:j*a.DV+c1], o0)
				}
			}
			normalize(out(r), o0, c.sum[r])
		}
	})
}
