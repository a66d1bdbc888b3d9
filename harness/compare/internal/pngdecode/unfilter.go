package pngdecode

import "fmt"

// unfilterGo reverses the row filter ft of cur, given the unfiltered row
// above it, prev (zeros above the first row); bpp is bytes per pixel. It
// is the pure-Go path: unfilter runs it where no vector kernel applies,
// and the tests hold every vector kernel to its bytes.
func unfilterGo(ft byte, cur, prev []byte, bpp int) error {
	n := len(cur)
	prev = prev[:n]
	switch ft {
	case ftNone:
	case ftSub:
		for i := bpp; i < n; i++ {
			cur[i] += cur[i-bpp]
		}
	case ftUp:
		for i, p := range prev {
			cur[i] += p
		}
	case ftAverage:
		for i := range bpp {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < n; i++ {
			cur[i] += uint8((uint(cur[i-bpp]) + uint(prev[i])) / 2)
		}
	case ftPaeth:
		paeth(cur, prev, bpp)
	default:
		return fmt.Errorf("decode png: bad filter type %d", ft)
	}
	return nil
}

// paeth reverses the Paeth filter. The channels of a pixel are
// independent chains (each pixel's value depends on its left neighbour's),
// so three or four of them run side by side for instruction-level
// parallelism, the left (a) and upper-left (c) values in registers.
func paeth(cur, prev []byte, bpp int) {
	switch bpp {
	case 3:
		paeth3(cur, prev)
	case 4:
		paeth4(cur, prev)
	default:
		paethN(cur, prev, bpp)
	}
}

// predict is the Paeth predictor of a (left), b (up), c (upper left).
// Small enough to inline, and written so that the compiler selects with
// conditional moves: on image data the choice is close to random, and a
// mispredicted branch costs more than the whole computation.
func predict(a, b, c int) int {
	pa, pb := b-c, a-c // p − a and p − b, where p = a + b − c
	pc := pa + pb
	if pa < 0 {
		pa = -pa
	}
	if pb < 0 {
		pb = -pb
	}
	if pc < 0 {
		pc = -pc
	}
	bc := b
	if pc < pb {
		bc = c
	}
	if min(pb, pc) < pa {
		a = bc
	}
	return a
}

func paeth3(cur, prev []byte) {
	n := len(cur) / 3 * 3
	cur, prev = cur[:n], prev[:n]
	var a0, a1, a2, c0, c1, c2 int
	for i := 0; i+3 <= n; i += 3 {
		p, q := cur[i:i+3:i+3], prev[i:i+3:i+3]
		b0, b1, b2 := int(q[0]), int(q[1]), int(q[2])
		a0 = int(p[0] + uint8(predict(a0, b0, c0)))
		a1 = int(p[1] + uint8(predict(a1, b1, c1)))
		a2 = int(p[2] + uint8(predict(a2, b2, c2)))
		p[0], p[1], p[2] = uint8(a0), uint8(a1), uint8(a2)
		c0, c1, c2 = b0, b1, b2
	}
}

func paeth4(cur, prev []byte) {
	n := len(cur) / 4 * 4
	cur, prev = cur[:n], prev[:n]
	var a0, a1, a2, a3, c0, c1, c2, c3 int
	for i := 0; i+4 <= n; i += 4 {
		p, q := cur[i:i+4:i+4], prev[i:i+4:i+4]
		b0, b1, b2, b3 := int(q[0]), int(q[1]), int(q[2]), int(q[3])
		a0 = int(p[0] + uint8(predict(a0, b0, c0)))
		a1 = int(p[1] + uint8(predict(a1, b1, c1)))
		a2 = int(p[2] + uint8(predict(a2, b2, c2)))
		a3 = int(p[3] + uint8(predict(a3, b3, c3)))
		p[0], p[1], p[2], p[3] = uint8(a0), uint8(a1), uint8(a2), uint8(a3)
		c0, c1, c2, c3 = b0, b1, b2, b3
	}
}

// paethN is paeth for any bpp, one channel at a time.
func paethN(cur, prev []byte, bpp int) {
	n := len(cur)
	for ch := range bpp {
		var a, c int
		for i := ch; i < n; i += bpp {
			b := int(prev[i])
			a = int(cur[i] + uint8(predict(a, b, c)))
			cur[i] = uint8(a)
			c = b
		}
	}
}

// expandRGBGo stores the RGB pixels of in as opaque NRGBA in out
// (len(out) = 4·len(in)/3).
func expandRGBGo(out, in []byte) {
	w := len(in) / 3
	for x := range w {
		s := in[3*x : 3*x+3 : 3*x+3]
		p := out[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = s[0], s[1], s[2], 0xff
	}
}

// unfilterFrom reverses filter ft (Sub, Average or Paeth) for the bytes
// of cur from index from on, those before it unfiltered already: the
// vector kernels' last pixel.
func unfilterFrom(ft byte, cur, prev []byte, bpp, from int) {
	for i := from; i < len(cur); i++ {
		var a, c int
		if i >= bpp {
			a, c = int(cur[i-bpp]), int(prev[i-bpp])
		}
		b := int(prev[i])
		switch ft {
		case ftSub:
			cur[i] += uint8(a)
		case ftAverage:
			cur[i] += uint8((a + b) / 2)
		case ftPaeth:
			cur[i] += uint8(predict(a, b, c))
		}
	}
}
