package pngdecode

// rowKernels is a set of vector kernels for the row filters and the RGB
// expansion (unfilter_amd64.s says what each computes). n counts pixels
// (paeth, avg, sub: pixels of 3 bytes need a readable fourth byte after
// the last), bytes (up: a multiple of upWidth), or groups of four pixels
// (expandRGB: 16 bytes readable at each).
type rowKernels struct {
	name           string
	paeth3, paeth4 func(cur, prev *byte, n int)
	avg3, avg4     func(cur, prev *byte, n int)
	sub3, sub4     func(cur *byte, n int)
	up             func(cur, prev *byte, n int)
	upWidth        int
	expandRGB      func(out, in *byte, n int)
	// adler sums blocks of 32 bytes for adlerSummer (nil: bytewise).
	adler func(p *byte, n int, acc *[3][8]uint32)
}

// kernels is the best set this CPU runs, nil for none.
var kernels = func() *rowKernels {
	if ks := allKernels(); len(ks) > 0 {
		return ks[0]
	}
	return nil
}()

// unfilter reverses the row filter ft of cur, given the unfiltered row
// above it, prev (zeros above the first row); bpp is bytes per pixel.
func unfilter(ft byte, cur, prev []byte, bpp int) error {
	return unfilterWith(kernels, ft, cur, prev, bpp)
}

// unfilterWith is unfilterGo with the kernels k (nil: none): every filter
// for 3 and 4 bytes per pixel, Up for any.
func unfilterWith(k *rowKernels, ft byte, cur, prev []byte, bpp int) error {
	n := len(cur)
	if k == nil || n == 0 || ft > ftPaeth || (bpp != 3 && bpp != 4 && ft != ftUp) {
		return unfilterGo(ft, cur, prev, bpp)
	}
	prev = prev[:n]
	switch ft {
	case ftNone:
		return nil
	case ftUp:
		done := n - n%k.upWidth
		if done > 0 {
			k.up(&cur[0], &prev[0], done)
		}
		for i := done; i < n; i++ {
			cur[i] += prev[i]
		}
		return nil
	}
	npix := n / bpp
	if bpp == 4 {
		switch ft {
		case ftSub:
			k.sub4(&cur[0], npix)
		case ftAverage:
			k.avg4(&cur[0], &prev[0], npix)
		case ftPaeth:
			k.paeth4(&cur[0], &prev[0], npix)
		}
		return nil
	}
	// 3 bytes per pixel: the kernels stop before the last pixel, which
	// has no fourth byte after it.
	if npix > 1 {
		switch ft {
		case ftSub:
			k.sub3(&cur[0], npix-1)
		case ftAverage:
			k.avg3(&cur[0], &prev[0], npix-1)
		case ftPaeth:
			k.paeth3(&cur[0], &prev[0], npix-1)
		}
	}
	unfilterFrom(ft, cur, prev, bpp, n-bpp)
	return nil
}

// expandRGB stores the RGB pixels of in as opaque NRGBA in out
// (len(out) = 4·len(in)/3).
func expandRGB(out, in []byte) { expandRGBWith(kernels, out, in) }

// expandRGBWith is expandRGBGo, four pixels at a time with the kernels k.
func expandRGBWith(k *rowKernels, out, in []byte) {
	groups := 0
	if k != nil && len(in) >= 16 {
		// Each group reads 16 bytes from its start, 12 of them its own.
		groups = (len(in)-16)/12 + 1
		out = out[:4*(len(in)/3)]
		k.expandRGB(&out[0], &in[0], groups)
	}
	expandRGBGo(out[16*groups:], in[12*groups:])
}

// adlerMod is the Adler-32's modulus; adlerNMax the most bytes whose
// sums fit 32 bits before reducing them.
const (
	adlerMod  = 65521
	adlerNMax = 5552
)

// adlerSummer sums Adler-32s with the kernels k (nil: none). Its
// accumulators live in it, not on the stack: a kernel called through a
// func value would make them escape, an allocation per call.
type adlerSummer struct {
	k   *rowKernels
	acc [3][8]uint32
}

// update is the Adler-32 of the bytes summed into adler, then p.
func (a *adlerSummer) update(adler uint32, p []byte) uint32 {
	s1, s2 := uint64(adler&0xffff), uint64(adler>>16)
	if k := a.k; k != nil && k.adler != nil {
		acc := &a.acc
		for len(p) >= 32 {
			n := min(len(p), 32768) &^ 31
			k.adler(&p[0], n, acc)
			var b, before, weighted uint64
			for i := range 8 {
				b += uint64(acc[0][i])
				before += uint64(acc[1][i])
				weighted += uint64(acc[2][i])
			}
			// Block k adds 32 sums of s1 as it stood before it (s1 and
			// the blocks before it) and its bytes by their weights.
			s2 = (s2 + 32*uint64(n/32)*s1 + 32*before + weighted) % adlerMod
			s1 = (s1 + b) % adlerMod
			p = p[n:]
		}
	}
	for len(p) > 0 {
		n := min(len(p), adlerNMax)
		q := p[:n]
		// 8 bytes a step: s2 gains 8 sums of s1 and the bytes by their
		// weights, so that s2 does not wait on every byte's s1.
		for ; len(q) >= 8; q = q[8:] {
			b0, b1, b2, b3 := uint64(q[0]), uint64(q[1]), uint64(q[2]), uint64(q[3])
			b4, b5, b6, b7 := uint64(q[4]), uint64(q[5]), uint64(q[6]), uint64(q[7])
			s2 += 8*s1 + 8*b0 + 7*b1 + 6*b2 + 5*b3 + 4*b4 + 3*b5 + 2*b6 + b7
			s1 += b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7
		}
		for _, c := range q {
			s1 += uint64(c)
			s2 += s1
		}
		s1 %= adlerMod
		s2 %= adlerMod
		p = p[n:]
	}
	return uint32(s2<<16 | s1)
}
