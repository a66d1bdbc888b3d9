package compare

import (
	"image"
	"math"
	"sync"
)

// labCacheBits sizes labCache: 2^14 entries, 256 KiB, within a core's L2.
const labCacheBits = 14

// labCache memoises linearToOKLab per 8-bit colour. Generated images
// repeat colours (the 1024² fixture golden has 23 k distinct colours in
// 1 M pixels; a ±1 LSB copy of it 31 k): a direct-mapped cache of 16 k
// entries answers 94–97 % of its pixels without the three cube roots. An
// entry holds the very float32 values the conversion gives, so the planes
// do not depend on what the cache held: hits change the speed, never a
// bit.
type labCache [1 << labCacheBits]labEntry

// labEntry is one slot of a labCache: 16 bytes, key and value in one
// cache line.
type labEntry struct {
	key uint32 // colour | 1<<24; 0 is an empty slot
	lab [3]float32
}

// oklab8 converts one 8-bit sRGB colour to OKLab, as float32.
func oklab8(r, g, b uint8) [3]float32 {
	L, A, B := linearToOKLab(srgbToLinear8[r], srgbToLinear8[g], srgbToLinear8[b])
	return [3]float32{float32(L), float32(A), float32(B)}
}

// get returns the OKLab value of (r, g, b).
func (c *labCache) get(r, g, b uint8) [3]float32 {
	k := uint32(r)<<16 | uint32(g)<<8 | uint32(b) | 1<<24
	h := (k * 2654435761) >> (32 - labCacheBits) // Fibonacci hashing
	if e := &c[h]; e.key == k {
		return e.lab
	}
	v := oklab8(r, g, b)
	c[h] = labEntry{key: k, lab: v}
	return v
}

// labCaches recycles labCache values between scans.
var labCaches = sync.Pool{New: func() any { return new(labCache) }}

// scanned is what one pass over an image's pixels derives: the colour and
// level statistics, and the 64×64 luma sums the DCT hash is made from.
type scanned struct {
	colour ColourStats
	levels *Levels
	thumb  []float64 // hashSide² box sums of Rec. 601 luma, then means (lumaThumb)
}

// lumaCoef are the Rec. 601 luma terms of every 8-bit level:
// lumaCoef[c][v] = k_c·v, the products lumaThumb computes.
var lumaCoef = func() (t [3][256]float64) {
	for v := range 256 {
		t[0][v] = 0.299 * float64(v)
		t[1][v] = 0.587 * float64(v)
		t[2][v] = 0.114 * float64(v)
	}
	return t
}()

// scan makes one pass over px for everything the record needs from every
// pixel, giving the same values, bit for bit, as colourStats of toOKLab,
// levelStats and lumaThumb one after the other.
//
// The pass runs as one band per row of the 4×4 grid, concurrently. Each
// statistic is a sum per grid cell, and per 64×64 thumbnail cell for the
// hash (a thumbnail row lies inside one grid row: ⌊4y/h⌋ = ⌊⌊64y/h⌋/16⌋),
// so every sum has one band as its only writer and gets its pixels in the
// row-major order of a sequential pass: the floating-point results do
// not depend on the split or the schedule. Level sums are integers,
// exact in float64 either way.
func scan(px *image.NRGBA) *scanned {
	s, _, _ := scanPair(px, nil, Thresholds{}, false)
	return s
}

// scanAgainst is scanPair without the golden's own statistics.
func scanAgainst(px, golden *image.NRGBA, th Thresholds) (*scanned, *localStats) {
	s, _, loc := scanPair(px, golden, th, false)
	return s, loc
}

// scanPair is scan of px that, given golden (the same size), also
// measures tier 4 of px against it in the same pass (local's result, bit
// for bit): px's colours are converted for the statistics anyway, so only
// the golden's colours of the pixels that changed need converting. With
// goldStats it also gives scan(golden), bit for bit, from the same pass:
// where a pixel's colour is the same on both sides (most of them), its
// conversion, products and luma serve both sums. With golden nil it is
// scan, and the other results are nil.
func scanPair(px, golden *image.NRGBA, th Thresholds, goldStats bool) (*scanned, *scanned, *localStats) {
	w, h := px.Rect.Dx(), px.Rect.Dy()
	s := &scanned{thumb: make([]float64, hashSide*hashSide)}
	goldStats = goldStats && golden != nil
	var gs *scanned
	if goldStats {
		gs = &scanned{thumb: make([]float64, hashSide*hashSide)}
	}
	var mask []bool
	var parts [gridSize]localStats
	if golden != nil {
		mask = make([]bool, w*h)
	}
	alphaMin := max(1, th.PixelAlphaLSB)
	// A row splits into segments of one thumbnail column each, and a
	// thumbnail column lies inside one grid column (as rows do in bands).
	// Within a segment every sum is carried in a local variable, loaded
	// from its cell before and stored after: the same additions in the
	// same order as a sum kept in the cell, without the memory round trip.
	type segment struct{ x0, x1, tx, cx int }
	var segs []segment
	for x := 0; x < w; {
		x1, tx := x, x*hashSide/w
		for x1 < w && x1*hashSide/w == tx {
			x1++
		}
		segs = append(segs, segment{x0: x, x1: x1, tx: tx, cx: x * gridSize / w})
		x = x1
	}
	colour := make([]colourAcc, gridSize*gridSize)
	levels := make([]levelAcc, gridSize*gridSize)
	var gcolour []colourAcc
	var glevels []levelAcc
	if goldStats {
		gcolour = make([]colourAcc, gridSize*gridSize)
		glevels = make([]levelAcc, gridSize*gridSize)
	}
	cnt := make([]uint32, hashSide*hashSide)
	var wg sync.WaitGroup
	y0 := 0
	for cy := range gridSize {
		y1 := y0
		for y1 < h && y1*gridSize/h == cy {
			y1++
		}
		band0, band1 := y0, y1
		y0 = y1
		if band0 == band1 {
			continue
		}
		wg.Go(func() {
			cache := labCaches.Get().(*labCache)
			defer labCaches.Put(cache)
			cc, lc := colour[cy*gridSize:(cy+1)*gridSize], levels[cy*gridSize:(cy+1)*gridSize]
			gcc, glc := cc, lc // written only with goldStats
			if goldStats {
				gcc, glc = gcolour[cy*gridSize:(cy+1)*gridSize], glevels[cy*gridSize:(cy+1)*gridSize]
			}
			loc := &parts[cy]
			// Tier 4's counts and maxima, kept in locals rather than
			// through loc (stored once, after the band).
			var maxDE float64
			var maxA, alphaChanged, changed int
			defer func() {
				loc.maxDeltaE, loc.maxAlpha, loc.alphaChanged, loc.changed = maxDE, maxA, alphaChanged, changed
			}()
			for y := band0; y < band1; y++ {
				row := px.Pix[y*px.Stride : y*px.Stride+4*w]
				var grow []byte
				var mrow []bool
				if golden != nil {
					grow, mrow = golden.Pix[y*golden.Stride:y*golden.Stride+4*w], mask[y*w:(y+1)*w]
				}
				ty := y * hashSide / h
				tsum, tcnt := s.thumb[ty*hashSide:(ty+1)*hashSide], cnt[ty*hashSide:(ty+1)*hashSide]
				gtsum := tsum // written only with goldStats
				if goldStats {
					gtsum = gs.thumb[ty*hashSide : (ty+1)*hashSide]
				}
				prev, v := uint32(0), [3]float32{}  // the last colour converted: 0 is no colour
				gprev, u := uint32(0), [3]float32{} // the same, for the golden's colours
				for _, sg := range segs {
					c, l := &cc[sg.cx], &lc[sg.cx]
					cn, s0, s1, s2, q0, q1, q2 := c.n, c.sum[0], c.sum[1], c.sum[2], c.sq[0], c.sq[1], c.sq[2]
					var ls0, ls1, ls2, ls3, lq0, lq1, lq2, lq3 uint64
					t := tsum[sg.tx]
					// The golden's sums, as its own scan carries them.
					gc, gl := &gcc[sg.cx], &glc[sg.cx]
					gn, gs0, gs1, gs2, gq0, gq1, gq2 := gc.n, gc.sum[0], gc.sum[1], gc.sum[2], gc.sq[0], gc.sq[1], gc.sq[2]
					var gls0, gls1, gls2, gls3, glq0, glq1, glq2, glq3 uint64
					gt := gtsum[sg.tx]
					for x := sg.x0; x < sg.x1; x++ {
						p := row[4*x : 4*x+4 : 4*x+4]
						k := uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2]) | 1<<24
						if grow != nil {
							// The golden's colour first: a golden is
							// smooth (the fixture's repeats its left
							// neighbour's at 73 % of pixels, a noisy
							// output at 16 %), and an unchanged pixel's
							// colour is the output's too.
							q := grow[4*x : 4*x+4 : 4*x+4]
							if kq := uint32(q[0])<<16 | uint32(q[1])<<8 | uint32(q[2]) | 1<<24; kq != gprev {
								gprev, u = kq, cache.get(q[0], q[1], q[2])
							}
							if k == gprev {
								prev, v = k, u
							}
						}
						if k != prev {
							prev, v = k, cache.get(p[0], p[1], p[2])
						}
						cn++
						f0, f1, f2 := float64(v[0]), float64(v[1]), float64(v[2])
						ff0, ff1, ff2 := float64(f0*f0), float64(f1*f1), float64(f2*f2)
						s0, s1, s2 = s0+f0, s1+f1, s2+f2
						q0, q1, q2 = q0+ff0, q1+ff1, q2+ff2
						r, g, b, a := uint64(p[0]), uint64(p[1]), uint64(p[2]), uint64(p[3])
						rr, gg, bb := r*r, g*g, b*b
						ls0, ls1, ls2, ls3 = ls0+r, ls1+g, ls2+b, ls3+a
						lq0, lq1, lq2, lq3 = lq0+rr, lq1+gg, lq2+bb, lq3+a*a
						luma := lumaCoef[0][p[0]] + lumaCoef[1][p[1]] + lumaCoef[2][p[2]]
						t += luma
						if grow == nil {
							continue
						}
						// Tier 4, as localMask.
						q := grow[4*x : 4*x+4 : 4*x+4]
						dE := 0.0
						if q[0] != p[0] || q[1] != p[1] || q[2] != p[2] {
							dE = float64(pixelDeltaE(u, v))
							if dE > maxDE { // dE ≥ 0, never NaN: max's result
								maxDE = dE
							}
							loc.countDrift(golden, x, y, p)
							if goldStats {
								f0, f1, f2 = float64(u[0]), float64(u[1]), float64(u[2])
								ff0, ff1, ff2 = float64(f0*f0), float64(f1*f1), float64(f2*f2)
								r, g, b = uint64(q[0]), uint64(q[1]), uint64(q[2])
								rr, gg, bb = r*r, g*g, b*b
								luma = lumaCoef[0][q[0]] + lumaCoef[1][q[1]] + lumaCoef[2][q[2]]
							}
						}
						if goldStats {
							gn++
							gs0, gs1, gs2 = gs0+f0, gs1+f1, gs2+f2
							gq0, gq1, gq2 = gq0+ff0, gq1+ff1, gq2+ff2
							ga := uint64(q[3])
							gls0, gls1, gls2, gls3 = gls0+r, gls1+g, gls2+b, gls3+ga
							glq0, glq1, glq2, glq3 = glq0+rr, glq1+gg, glq2+bb, glq3+ga*ga
							gt += luma
						}
						da := int(q[3]) - int(p[3])
						da = max(da, -da)
						maxA = max(maxA, da)
						alpha := da >= alphaMin
						if alpha {
							alphaChanged++
						}
						in := alpha || dE > th.PixelDeltaE && maxLSB(q, p) >= th.PixelMinLSB
						mrow[x] = in
						if in {
							changed++
						}
					}
					c.n, c.sum, c.sq = cn, [3]float64{s0, s1, s2}, [3]float64{q0, q1, q2}
					l.n += uint64(sg.x1 - sg.x0)
					l.sum[0], l.sum[1], l.sum[2], l.sum[3] = l.sum[0]+ls0, l.sum[1]+ls1, l.sum[2]+ls2, l.sum[3]+ls3
					l.sq[0], l.sq[1], l.sq[2], l.sq[3] = l.sq[0]+lq0, l.sq[1]+lq1, l.sq[2]+lq2, l.sq[3]+lq3
					tsum[sg.tx] = t
					tcnt[sg.tx] += uint32(sg.x1 - sg.x0)
					if goldStats {
						gc.n, gc.sum, gc.sq = gn, [3]float64{gs0, gs1, gs2}, [3]float64{gq0, gq1, gq2}
						gl.n += uint64(sg.x1 - sg.x0)
						gl.sum[0], gl.sum[1], gl.sum[2], gl.sum[3] = gl.sum[0]+gls0, gl.sum[1]+gls1, gl.sum[2]+gls2, gl.sum[3]+gls3
						gl.sq[0], gl.sq[1], gl.sq[2], gl.sq[3] = gl.sq[0]+glq0, gl.sq[1]+glq1, gl.sq[2]+glq2, gl.sq[3]+glq3
						gtsum[sg.tx] = gt
					}
				}
			}
		})
	}
	wg.Wait()

	s.finish(px, colour, levels, cnt)
	if golden == nil {
		return s, nil, nil
	}
	if goldStats {
		gs.finish(golden, gcolour, glevels, cnt)
	}
	st := mergeLocal(parts[:], mask, w, h, th.Window)
	return s, gs, &st
}

// colourAcc is a grid cell's OKLab sums during a scan.
type colourAcc struct {
	n       float64
	sum, sq [3]float64
}

// levelAcc is a grid cell's 8-bit level sums during a scan.
type levelAcc struct {
	n       uint64
	sum, sq [4]uint64
}

// finish turns a scan's cell sums of img into its statistics, and its
// thumbnail sums (cnt pixels each) into the means the hash is made from.
func (s *scanned) finish(img *image.NRGBA, colour []colourAcc, levels []levelAcc, cnt []uint32) {
	var global colourAcc
	for _, c := range colour {
		global.n += c.n
		for ch := range 3 {
			global.sum[ch] += c.sum[ch]
			global.sq[ch] += c.sq[ch]
		}
	}
	finish := func(a colourAcc) (st LabStats) {
		if a.n == 0 {
			return st
		}
		for ch := range 3 {
			m := a.sum[ch] / a.n
			v := a.sq[ch]/a.n - float64(m*m)
			st.Mean[ch] = m
			st.Std[ch] = math.Sqrt(math.Max(v, 0))
		}
		return st
	}
	s.colour = ColourStats{Global: finish(global), Grid: make([]LabStats, len(colour))}
	for i, c := range colour {
		s.colour.Grid[i] = finish(c)
	}

	var lglobal levelAcc
	for _, l := range levels {
		lglobal.n += l.n
		for ch := range 4 {
			lglobal.sum[ch] += l.sum[ch]
			lglobal.sq[ch] += l.sq[ch]
		}
	}
	lfinish := func(a levelAcc) (st LevelStats) {
		if a.n == 0 {
			return st
		}
		n := float64(a.n)
		for ch := range 4 {
			m := float64(a.sum[ch]) / n
			st.Mean[ch] = m
			st.Std[ch] = math.Sqrt(math.Max(float64(a.sq[ch])/n-float64(m*m), 0))
		}
		return st
	}
	s.levels = &Levels{Global: lfinish(lglobal), Grid: make([]LevelStats, len(levels))}
	for i, l := range levels {
		s.levels.Grid[i] = lfinish(l)
	}
	fillThumb(img, s.thumb, cnt)
}

// fillThumb turns the thumbnail's sums into means and fills the cells no
// pixel mapped to (images under 64 px on a side) from the nearest source
// pixel, as lumaThumb does.
func fillThumb(img *image.NRGBA, sum []float64, cnt []uint32) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for ty := range hashSide {
		for tx := range hashSide {
			i := ty*hashSide + tx
			if cnt[i] > 0 {
				sum[i] /= float64(cnt[i])
				continue
			}
			sx, sy := tx*w/hashSide, ty*h/hashSide
			p := img.Pix[sy*img.Stride+4*sx:]
			sum[i] = float64(0.299*float64(p[0])) + float64(0.587*float64(p[1])) + float64(0.114*float64(p[2]))
		}
	}
}
