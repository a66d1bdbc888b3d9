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
