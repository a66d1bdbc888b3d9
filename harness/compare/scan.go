package compare

import (
	"encoding/binary"
	"image"
	"math"
	"runtime"
	"runtime/trace"
	"sync"
	"sync/atomic"
)

// oklab8 converts one 8-bit sRGB colour to OKLab, as float32.
func oklab8(r, g, b uint8) [3]float32 {
	L, A, B := linearToOKLab(srgbToLinear8[r], srgbToLinear8[g], srgbToLinear8[b])
	return [3]float32{float32(L), float32(A), float32(B)}
}

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
// The pass runs as one task per cell of the 4×4 grid, the tasks taken in
// turn by GOMAXPROCS goroutines (scanPairWorkers). Each
// statistic is a sum per grid cell, and per 64×64 thumbnail cell for the
// hash (a thumbnail cell lies inside one grid cell: ⌊4y/h⌋ = ⌊⌊64y/h⌋/16⌋,
// and the same for x), so every sum has one task as its only writer and
// gets its pixels in the row-major order of a sequential pass: the
// floating-point results do not depend on the split or the schedule. Level sums are integers,
// exact in float64 either way. Colours are converted through one labTable
// shared by the tasks: each distinct colour once.
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
// for bit): px's colours are converted for the statistics anyway. With
// goldStats it also gives scan(golden), bit for bit, from the same pass:
// where a pixel's colour is the same on both sides, its products and luma
// serve both sums. A pixel's ΔE is taken only where it can matter: where
// the local mask needs it (an 8-bit channel moved by PixelMinLSB or more),
// and once for the maximum, from the largest squared distance (deltaEOf
// is monotone). With golden nil it is scan, and the other results are nil.
func scanPair(px, golden *image.NRGBA, th Thresholds, goldStats bool) (*scanned, *scanned, *localStats) {
	return scanPairWorkers(px, golden, th, goldStats, runtime.GOMAXPROCS(0))
}

// scanPairWorkers is scanPair with its cells shared out among the given
// number of goroutines (at most one per cell): the results are the same,
// bit for bit, for any number.
func scanPairWorkers(px, golden *image.NRGBA, th Thresholds, goldStats bool, workers int) (*scanned, *scanned, *localStats) {
	w, h := px.Rect.Dx(), px.Rect.Dy()
	s := &scanned{thumb: make([]float64, hashSide*hashSide)}
	goldStats = goldStats && golden != nil
	var gs *scanned
	if goldStats {
		gs = &scanned{thumb: make([]float64, hashSide*hashSide)}
	}
	var mask []bool
	var parts [gridSize * gridSize]localStats
	if golden != nil {
		mask = make([]bool, w*h)
	}
	alphaMin := max(1, th.PixelAlphaLSB)
	// A row splits into segments of one thumbnail column each, and a
	// thumbnail column lies inside one grid column (as a thumbnail row
	// lies inside one grid row).
	// A segment's sums are carried in locals (sumSegment).
	// A segment is at most maxSegment pixels wide (a wider thumbnail
	// column takes several): its level sums are carried two channels to a
	// word (levelLanes), which then cannot overflow.
	type segment struct{ x0, x1, tx int }
	var segs [gridSize][]segment // by grid column
	for x := 0; x < w; {
		x1, tx := x, x*hashSide/w
		for x1 < w && x1*hashSide/w == tx && x1-x < maxSegment {
			x1++
		}
		cx := x * gridSize / w
		segs[cx] = append(segs[cx], segment{x0: x, x1: x1, tx: tx})
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
	pixels := w * h
	if golden != nil {
		pixels *= 2
	}
	cache := newLabTable(pixels)
	defer cache.put()
	// Grid row cy is rows [y0[cy], y0[cy+1]).
	var y0 [gridSize + 1]int
	for cy := range gridSize {
		y1 := y0[cy]
		for y1 < h && y1*gridSize/h == cy {
			y1++
		}
		y0[cy+1] = y1
	}
	// The pass is one task per grid cell, each a function of the images
	// alone: every sum it writes (its cell's, its thumbnail cells', its
	// part of tier 4) has it as the only writer, and gets its pixels in
	// the row-major order of a sequential pass. Which worker runs a task,
	// and when, changes nothing; sixteen tasks taken in turn from a
	// counter keep both cores busy to the end, where four bands of a grid
	// row each, dealt out in advance, left one core idle for a band's
	// length whenever the bands' costs differed. A row's colours in OKLab
	// are looked up before its sums (lookRow: see there why), into buffers
	// of the worker's.
	cell := func(cy, cx int, vbuf, ubuf [][3]float32) {
		defer trace.StartRegion(bg, "cell").End()
		sgs := segs[cx]
		if len(sgs) == 0 || y0[cy] == y0[cy+1] {
			return
		}
		x0, x1 := sgs[0].x0, sgs[len(sgs)-1].x1
		ci := cy*gridSize + cx
		cc, lc := &colour[ci], &levels[ci]
		gcc, glc := cc, lc // written only with goldStats
		if goldStats {
			gcc, glc = &gcolour[ci], &glevels[ci]
		}
		loc := &parts[ci]
		// Tier 4's counts and maxima, kept in locals rather than
		// through loc (stored once, after the cell).
		var maxD2 float64 // the largest squared distance: ΔE is monotone in it
		var maxA, alphaChanged, changed int
		defer func() {
			loc.maxDeltaE, loc.maxAlpha, loc.alphaChanged, loc.changed = deltaEOf(maxD2), maxA, alphaChanged, changed
		}()
		for y := y0[cy]; y < y0[cy+1]; y++ {
			row := px.Pix[y*px.Stride : y*px.Stride+4*w]
			var grow []byte
			var mrow []bool
			var gcut []byte
			var ucut [][3]float32
			if golden != nil {
				grow, mrow = golden.Pix[y*golden.Stride:y*golden.Stride+4*w], mask[y*w:(y+1)*w]
				gcut, ucut = grow[4*x0:4*x1], ubuf[x0:x1]
			}
			ty := y * hashSide / h
			tsum, tcnt := s.thumb[ty*hashSide:(ty+1)*hashSide], cnt[ty*hashSide:(ty+1)*hashSide]
			gtsum := tsum // written only with goldStats
			if goldStats {
				gtsum = gs.thumb[ty*hashSide : (ty+1)*hashSide]
			}
			cache.lookRow(vbuf[x0:x1], ucut, row[4*x0:4*x1], gcut)
			for _, sg := range sgs {
				tsum[sg.tx] = sumSegment(row, vbuf, sg.x0, sg.x1, cc, lc, tsum[sg.tx])
				tcnt[sg.tx] += uint32(sg.x1 - sg.x0)
				if goldStats {
					gtsum[sg.tx] = sumSegment(grow, ubuf, sg.x0, sg.x1, gcc, glc, gtsum[sg.tx])
				}
			}
			if grow == nil {
				continue
			}
			// Tier 4, as localMask.
			_, above, below := driftRows(golden, y)
			if sameAlpha(row[4*x0:4*x1], grow[4*x0:4*x1]) {
				// Every alpha the same (an opaque pair): each pixel's
				// alpha change is 0, in no mask and under every maximum
				// (maxA stays as it is: it is at least 0), and a pixel
				// changed exactly where its four bytes did.
				for x := x0; x < x1; x++ {
					p, q := row[4*x:4*x+4:4*x+4], grow[4*x:4*x+4:4*x+4]
					if binary.LittleEndian.Uint32(p) == binary.LittleEndian.Uint32(q) {
						continue // d² is 0 (u is v), nothing drifted
					}
					lsb := maxLSB(q, p)
					d2 := labDist2(ubuf[x], vbuf[x])
					maxD2 = max(maxD2, d2)
					loc.countDrift(grow, above, below, x, p)
					if lsb >= th.PixelMinLSB && deltaEOf(d2) > th.PixelDeltaE {
						mrow[x] = true
						changed++
					}
				}
				continue
			}
			for x := x0; x < x1; x++ {
				p, q := row[4*x:4*x+4:4*x+4], grow[4*x:4*x+4:4*x+4]
				u, v := ubuf[x], vbuf[x]
				lsb := maxLSB(q, p)
				if lsb != 0 { // else d² is 0 (u is v), and nothing drifted
					if d2 := labDist2(u, v); d2 > maxD2 {
						maxD2 = d2
					}
					loc.countDrift(grow, above, below, x, p)
				}
				da := int(q[3]) - int(p[3])
				da = max(da, -da)
				maxA = max(maxA, da)
				alpha := da >= alphaMin
				if alpha {
					alphaChanged++
				}
				in := alpha
				if !in && lsb != 0 && lsb >= th.PixelMinLSB {
					in = deltaEOf(labDist2(u, v)) > th.PixelDeltaE
				}
				if in { // the mask is zero: its pages untouched until a pixel is in it
					mrow[x] = true
					changed++
				}
			}
		}
	}
	const cells = gridSize * gridSize
	workers = min(max(workers, 1), cells)
	var next atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			vbuf := make([][3]float32, w)
			var ubuf [][3]float32
			if golden != nil {
				ubuf = make([][3]float32, w)
			}
			for {
				i := int(next.Add(1)) - 1
				if i >= cells {
					return
				}
				cell(i/gridSize, i%gridSize, vbuf, ubuf)
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

// sameAlpha reports whether the NRGBA bytes a and b (the same length)
// have the same alpha in every pixel: eight bytes at a time, two pixels'
// alphas under one mask.
func sameAlpha(a, b []byte) bool {
	const alpha = 0xff000000_ff000000
	n := len(a) &^ 7
	b = b[:len(a)]
	var diff uint64
	for i := 0; i < n; i += 8 {
		diff |= (binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])) & alpha
	}
	for i := n + 3; i < len(a); i += 4 {
		diff |= uint64(a[i] ^ b[i])
	}
	return diff == 0
}

// sumSegment adds the pixels [x0, x1) of a row (NRGBA bytes; lab, their
// OKLab colours) to a grid cell's colour and level sums, and their Rec. 601
// luma to t, a thumbnail cell's sum, which it returns. Within the segment
// every sum is carried in a local variable, loaded from its cell before
// and stored after: the same additions in the same order as a sum kept in
// the cell, without the memory round trip. One side at a time: the two
// sides' sums at once were more sums than registers.
func sumSegment(row []byte, lab [][3]float32, x0, x1 int, c *colourAcc, l *levelAcc, t float64) float64 {
	s0, s1, s2, q0, q1, q2 := c.sum[0], c.sum[1], c.sum[2], c.sq[0], c.sq[1], c.sq[2]
	var ls01, ls23, lq01, lq23 uint64 // levelLanes
	row, lab = row[4*x0:4*x1], lab[x0:x1]
	for i, v := range lab {
		p := row[4*i : 4*i+4 : 4*i+4]
		f0, f1, f2 := float64(v[0]), float64(v[1]), float64(v[2])
		s0, s1, s2 = s0+f0, s1+f1, s2+f2
		q0, q1, q2 = q0+float64(f0*f0), q1+float64(f1*f1), q2+float64(f2*f2)
		a01, a23, b01, b23 := levelLanes(p)
		ls01, ls23, lq01, lq23 = ls01+a01, ls23+a23, lq01+b01, lq23+b23
		t += lumaCoef[0][p[0]] + lumaCoef[1][p[1]] + lumaCoef[2][p[2]]
	}
	n := x1 - x0
	c.n += float64(n)
	c.sum, c.sq = [3]float64{s0, s1, s2}, [3]float64{q0, q1, q2}
	l.n += uint64(n)
	l.add(ls01, ls23, lq01, lq23)
	return t
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

// maxSegment bounds a scan segment's width so that levelLanes sums cannot
// overflow a lane: 4096 × 255² < 2³².
const maxSegment = 4096

// levelLanes are the level sums' terms of one NRGBA pixel, two channels to
// a word, a channel to 32 bits: R and G levels, B and A levels, and their
// squares. Sums of these over at most maxSegment pixels are the channels'
// sums lane by lane (add unpacks them): four integer additions a pixel
// instead of eight, and fewer sums to keep in registers.
func levelLanes(p []byte) (s01, s23, q01, q23 uint64) {
	p = p[:4:4]
	r, g, b, a := uint64(p[0]), uint64(p[1]), uint64(p[2]), uint64(p[3])
	return r | g<<32, b | a<<32, r*r | g*g<<32, b*b | a*a<<32
}

// add adds a segment's levelLanes sums to the cell's.
func (l *levelAcc) add(s01, s23, q01, q23 uint64) {
	const lo = 1<<32 - 1
	l.sum[0], l.sum[1], l.sum[2], l.sum[3] = l.sum[0]+s01&lo, l.sum[1]+s01>>32, l.sum[2]+s23&lo, l.sum[3]+s23>>32
	l.sq[0], l.sq[1], l.sq[2], l.sq[3] = l.sq[0]+q01&lo, l.sq[1]+q01>>32, l.sq[2]+q23&lo, l.sq[3]+q23>>32
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

var zzTable = true

type labGetter interface {
	get(r, g, b uint8) [3]float32
}
