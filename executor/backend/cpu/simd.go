package cpu

import "context"

// The SIMD path of the many-queries case. Lanes are query rows: a panel of
// simdLanes rows is held transposed ([D][8] queries, [NK][8] logits and
// weights, [DV][8] sums), and each lane does exactly the scalar sequence of
// operations of the pure-Go kernels for its row:
//
//   - logits: the dot product with key j sums q_t·k_t for t = 0…D−1 in
//     order into one float64 accumulator starting at zero (the products of
//     two float32 values are exact in float64, so the vector FMA rounds
//     exactly like madd, fused or not), then dot·(1/v) − (qn + kc_j);
//   - softmax: the maximum in order with softmaxRow's "x > m" (VMAXPD with
//     the new value first is exactly that, NaN included), then expNeg's
//     operations one by one, every product rounded on its own (no FMA:
//     those products are not exact), the weight rounded to float32 and
//     added to the lane's sum in order j = 0…NK−1 (a weight below the
//     cutoff adds +0, which leaves the sum, never −0, unchanged; so the
//     AVX2 kernel skips the exponentials of a key below the cutoff in all
//     8 lanes and writes its +0 weights);
//   - weighted sum: p_j·v_j added for j = 0…NK−1 in order into one float64
//     accumulator per output value starting at zero (exact products again),
//     then divided by the sum and rounded to float32 in Go.
//
// So the outputs are bit-identical to the pure-Go path's for every input
// (NaN payloads aside: which NaN an operation returns may differ between
// instruction sets; a NaN stays a NaN). TestSIMDMatchesPureGo holds every
// kernel set this CPU runs to the pure-Go bits on random and adversarial
// inputs, and TestGoldenBits pins them.

// simdLanes is the number of query rows of a panel.
const simdLanes = 8

// simdCols is the number of output columns per weighted-sum kernel call.
const simdCols = 4

// simdKernels is one instruction set's kernels over a panel of 8 rows.
type simdKernels struct {
	name string
	keys int // keys per group of the logits kernel
	// logits writes, for ngroups groups of keys k (rows of d float32
	// values widened to float64), dot·invV − (qn + kc[j]) to l[j][0:8],
	// from the queries q ([d][8], float32 values as float64) and their
	// terms qn[0:8].
	logits func(q *float64, d int, k *float64, ngroups int, kc, qn *float64, invV float64, l *float64)
	// logits32 is logits reading K as float32 (rows of d float32 values),
	// widening each value as it goes: for calls with few panels, where
	// widening K once would cost more than the conversions it saves.
	logits32 func(q *float64, d int, k *float32, ngroups int, kc, qn *float64, invV float64, l *float64)
	// softmax turns l[0:nk][0:8] into weights in place, as softmaxRow does
	// for each of the 8 rows, and writes the 8 sums to sum.
	softmax func(l *float64, nk int, sum *float64)
	// pv adds Σ_j p[j][r]·v[j·ldv+c] to acc[c][r] for c < 4, r < 8, j in
	// order.
	pv func(p *float64, nk int, v *float64, ldv int, acc *float64)
	// axpy2 and axpy4 are the few-queries weighted sums (axpy2, axpy4 of
	// pv.go) with lanes = columns, for n a multiple of 8 and 4.
	axpy2 func(p0, p1 float64, v *float32, n int, o0, o1 *float64)
	axpy4 func(p *[4]float64, v *float32, n int, o0, o1, o2, o3 *float64)
	// dots continues acc[r·8+j] += Σ_t q_r[t]·k_j[t] for two query rows
	// and 8 keys (rows of k, stride ldk), t = 0…n−1 in order, n a
	// multiple of 4 (lanes = keys): the few-queries logits.
	dots func(q0, q1 *float64, k *float32, ldk int, n int, acc *[16]float64)
	// norms continues acc[j] += Σ_t k_j[t]² for 8 keys (rows of k,
	// stride ldk), t = 0…n−1 in order, n a multiple of 4 (lanes = keys):
	// the key norms when Attention is not given them. Optional.
	norms func(k *float32, ldk int, n int, acc *[8]float64)
}

// logitsFew is logits (kernel.go) of all the call's query rows against
// keys [j0, j1) of a.K for the few-queries path, on k.dots: groups of 8
// keys, two rows at a time (a lone last row is paired with itself), the
// last D mod 4 terms and the last keys in Go, each pair's terms in order
// t = 0…D−1, so the bits are those of logits.
func (k *simdKernels) logitsFew(c *call, j0, j1 int) {
	a := c.a
	d := a.D
	n := d &^ 3
	qrow := func(r int) []float64 { return c.q64[r*d : (r+1)*d] }
	j := j0
	for ; j+7 < j1; j += 8 {
		for r := 0; r < a.NQ; r += 2 {
			r1 := min(r+1, a.NQ-1)
			q0, q1 := qrow(r), qrow(r1)
			var acc [16]float64
			if n > 0 {
				k.dots(&q0[0], &q1[0], &a.K[j*d], d, n, &acc)
			}
			for i := range 8 {
				kr := a.K[(j+i)*d : (j+i+1)*d]
				s0, s1 := acc[i], acc[8+i]
				for t := n; t < d; t++ {
					kt := float64(kr[t])
					s0 = madd(q0[t], kt, s0)
					s1 = madd(q1[t], kt, s1)
				}
				c.l[r*a.NK+j+i] = c.logit(c.qn[r], s0, j+i)
				if r1 != r {
					c.l[r1*a.NK+j+i] = c.logit(c.qn[r1], s1, j+i)
				}
			}
		}
	}
	if j < j1 {
		logits(c, a.K, c.q64, c.qn, a.NQ, j, j1, c.l, a.NK)
	}
}

// axpy2s is axpy2 on the kernels, the tail columns in Go.
func (k *simdKernels) axpy2s(p0, p1 float64, v []float32, o0, o1 []float64) {
	n := len(v) &^ 7
	if n > 0 {
		o0, o1 = o0[:len(v)], o1[:len(v)]
		k.axpy2(p0, p1, &v[0], n, &o0[0], &o1[0])
	}
	axpy2(p0, p1, v[n:], o0[n:], o1[n:])
}

// axpy4s is axpy4 on the kernels, the tail columns in Go.
func (k *simdKernels) axpy4s(p0, p1, p2, p3 float64, v []float32, o0, o1, o2, o3 []float64) {
	n := len(v) &^ 3
	if n > 0 {
		o0, o1, o2, o3 = o0[:len(v)], o1[:len(v)], o2[:len(v)], o3[:len(v)]
		p := [4]float64{p0, p1, p2, p3}
		k.axpy4(&p, &v[0], n, &o0[0], &o1[0], &o2[0], &o3[0])
	}
	axpy4(p0, p1, p2, p3, v[n:], o0[n:], o1[n:], o2[n:], o3[n:])
}

// simdScratch is one worker's buffers of the SIMD path.
type simdScratch struct {
	qt    []float64 // [panels][D][8]
	qn    []float64 // [panels][8]
	l     []float64 // [panels][NKp][8] logits, then weights
	sum   []float64 // [panels][8]
	acc   []float64 // [panels][DVp][8]
	ktail []float32 // [keys][D] logits32: the last NK mod keys keys, zero-padded
}

// attendManySIMD is attendMany on the vector kernels k.
func (b *Backend) attendManySIMD(ctx context.Context, c *call, k *simdKernels) error {
	a := c.a
	nkp := ceilDiv(a.NK, k.keys) * k.keys
	dvp := ceilDiv(a.DV, simdCols) * simdCols
	c.kc = make([]float64, nkp) // zero beyond NK: the padding keys' terms
	nt := c.pl.normRun
	if err := b.parallel(ctx, c.pl.workers, ceilDiv(a.NK, nt), func(_ *scratch, t int) {
		c.keyTerms(t*nt, min((t+1)*nt, a.NK))
	}); err != nil {
		return err
	}
	// V widened once, its rows padded with zero columns to dvp.
	vw, _ := b.vpool.Get().(*[]float64)
	if vw == nil {
		vw = new([]float64)
	}
	defer b.vpool.Put(vw)
	*vw = grow(*vw, a.NK*dvp)
	v64 := *vw
	// finite: every value of V is finite, so that a key whose weight is 0
	// in all 8 lanes of a panel can be skipped in the weighted sum (see
	// below). x−x is 0 for a finite x and NaN otherwise; NaN ≠ 0.
	finite := true
	for j := range a.NK {
		row := v64[j*dvp : (j+1)*dvp]
		for col, x := range a.V[j*a.DV : (j+1)*a.DV] {
			row[col] = float64(x)
			if x-x != 0 {
				finite = false
			}
		}
		clear(row[a.DV:])
	}
	// With many queries (pl.widen), K widened once, padded with zero keys
	// to nkp (their logits are computed and never read): every panel reads
	// every key, and a broadcast from memory is cheaper than a conversion
	// per panel. With few (the els tiles, 2 panels), widening would cost
	// more than it saves: logits32 reads K as float32, the last NK mod
	// keys keys from a zero-padded copy.
	var k64 []float64
	groups, tail := a.NK/k.keys, a.NK%k.keys
	if c.pl.widen || k.logits32 == nil {
		kw, _ := b.vpool.Get().(*[]float64)
		if kw == nil {
			kw = new([]float64)
		}
		defer b.vpool.Put(kw)
		*kw = grow(*kw, nkp*a.D)
		k64 = *kw
		for i, x := range a.K[:a.NK*a.D] {
			k64[i] = float64(x)
		}
		clear(k64[a.NK*a.D:])
		groups, tail = nkp/k.keys, 0
	}
	rows := ceilDiv(c.pl.rows, simdLanes) * simdLanes
	keysPerBlock := max(c.pl.keys/k.keys, 1) // groups per L1 block
	n := ceilDiv(a.NQ, rows)
	return b.parallel(ctx, c.pl.workers, n, func(s *scratch, t int) {
		ss := &s.simd
		i0 := t * rows
		nr := min(rows, a.NQ-i0)
		np := ceilDiv(nr, simdLanes)
		s.q64 = grow(s.q64, nr*a.D)
		s.qn = grow(s.qn, nr)
		c.packQueries(i0, nr, s.q64, s.qn)
		ss.qt = grow(ss.qt, np*a.D*simdLanes)
		ss.qn = grow(ss.qn, np*simdLanes)
		ss.l = grow(ss.l, np*nkp*simdLanes)
		ss.sum = grow(ss.sum, np*simdLanes)
		ss.acc = grow(ss.acc, np*dvp*simdLanes)
		// Transpose the queries into panels; rows past nr are zero (their
		// lanes are computed and never read).
		for g := range np {
			qt := ss.qt[g*a.D*simdLanes : (g+1)*a.D*simdLanes]
			for lane := range simdLanes {
				r := g*simdLanes + lane
				if r >= nr {
					for t := range a.D {
						qt[t*simdLanes+lane] = 0
					}
					ss.qn[g*simdLanes+lane] = 0
					continue
				}
				for t, x := range s.q64[r*a.D : (r+1)*a.D] {
					qt[t*simdLanes+lane] = x
				}
				ss.qn[g*simdLanes+lane] = s.qn[r]
			}
		}
		panelQ := func(g int) *float64 { return &ss.qt[g*a.D*simdLanes] }
		panelL := func(g, j int) *float64 { return &ss.l[(g*nkp+j)*simdLanes] }
		// Logits: blocks of keys stay in L1 while every panel passes.
		for gb := 0; gb < groups; gb += keysPerBlock {
			ge := min(gb+keysPerBlock, groups)
			j := gb * k.keys
			for g := range np {
				if k64 != nil {
					k.logits(panelQ(g), a.D, &k64[j*a.D], ge-gb, &c.kc[j], &ss.qn[g*simdLanes], c.invV, panelL(g, j))
				} else {
					k.logits32(panelQ(g), a.D, &a.K[j*a.D], ge-gb, &c.kc[j], &ss.qn[g*simdLanes], c.invV, panelL(g, j))
				}
			}
		}
		if tail > 0 {
			ss.ktail = grow(ss.ktail, k.keys*a.D)
			j := groups * k.keys
			copy(ss.ktail, a.K[j*a.D:a.NK*a.D])
			clear(ss.ktail[tail*a.D:])
			for g := range np {
				k.logits32(panelQ(g), a.D, &ss.ktail[0], 1, &c.kc[j], &ss.qn[g*simdLanes], c.invV, panelL(g, j))
			}
		}
		for g := range np {
			k.softmax(panelL(g, 0), a.NK, &ss.sum[g*simdLanes])
		}
		// The weighted sums, by blocks of pvKeys keys: a block of V stays
		// in cache while every panel of the task passes over it (else each
		// panel of 8 rows streams all of V, 6 MB for the VAE decode). Each
		// accumulator still adds j = 0…NK−1 in order.
		clear(ss.acc)
		for kb := 0; kb < a.NK; kb += c.pl.pvKeys {
			ke := min(kb+c.pl.pvKeys, a.NK)
			for g := range np {
				acc := ss.acc[g*dvp*simdLanes : (g+1)*dvp*simdLanes]
				pv := func(jb, je int) {
					for cg := 0; cg < dvp; cg += simdCols {
						k.pv(panelL(g, jb), je-jb, &v64[jb*dvp+cg], dvp, &acc[cg*simdLanes])
					}
				}
				if !finite {
					pv(kb, ke)
					continue
				}
				// The codebook attention of the VAE decode gives most keys
				// weight 0 (below expCutoff) in every lane. Adding 0·v_j
				// (v_j finite) to an accumulator that started at +0 leaves
				// it unchanged, bit for bit (acc + ±0 = acc, and +0 + −0 =
				// +0, so an accumulator is never −0), so the weighted sum
				// runs over the runs of keys with a nonzero weight only, in
				// the same order j = 0…NK−1: the same bits, and a fraction
				// of the work.
				w := ss.l[g*nkp*simdLanes : (g*nkp+a.NK)*simdLanes]
				for j := kb; j < ke; {
					for j < ke && zeroLanes(w[j*simdLanes:(j+1)*simdLanes]) {
						j++
					}
					jb := j
					for j < ke && !zeroLanes(w[j*simdLanes:(j+1)*simdLanes]) {
						j++
					}
					if j > jb {
						pv(jb, j)
					}
				}
			}
		}
		for g := range np {
			sum := ss.sum[g*simdLanes : (g+1)*simdLanes]
			acc := ss.acc[g*dvp*simdLanes : (g+1)*dvp*simdLanes]
			for lane := range min(simdLanes, nr-g*simdLanes) {
				r := i0 + g*simdLanes + lane
				out := a.Out[r*a.DV : (r+1)*a.DV]
				for col := range out {
					out[col] = float32(acc[col*simdLanes+lane] / sum[lane])
				}
			}
		}
	})
}

// zeroLanes reports whether the 8 weights w of one key are all 0.
func zeroLanes(w []float64) bool {
	w = w[:simdLanes]
	return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0
}
