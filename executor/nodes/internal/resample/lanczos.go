package resample

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
)

// Pillow's fixed-point precision for 8-bit resampling (Resample.c).
const pilPrecisionBits = 32 - 8 - 2

// lanczos is comfy.utils.lanczos: each sample is quantised to uint8
// (truncation, as SaveImage), resized with Pillow's LANCZOS filter and
// converted back to x/255. Pillow resizes horizontally first, then
// vertically, each pass rounding to uint8; a pass whose size does not
// change is skipped.
func lanczos(img *node.Image, width, height int) *node.Image {
	out := node.NewImage(img.N, height, width, img.C)
	c := img.C
	plane := make([]uint8, img.H*img.W*c)
	for b := range img.N {
		src := img.Pix[img.At(b, 0, 0) : img.At(b, 0, 0)+len(plane)]
		for i, v := range src {
			plane[i] = pngmeta.Byte(v)
		}
		cur, w, h := plane, img.W, img.H
		if width != w {
			bounds, kk, ksize := pilCoeffs(w, width)
			next := make([]uint8, h*width*c)
			for y := range h {
				for x := range width {
					xmin, n := bounds[2*x], bounds[2*x+1]
					k := kk[x*ksize : x*ksize+n]
					for ch := range c {
						ss := int64(1) << (pilPrecisionBits - 1)
						for i, kv := range k {
							ss += int64(cur[(y*w+xmin+i)*c+ch]) * int64(kv)
						}
						next[(y*width+x)*c+ch] = pilClip8(ss)
					}
				}
			}
			cur, w = next, width
		}
		if height != h {
			bounds, kk, ksize := pilCoeffs(h, height)
			next := make([]uint8, height*w*c)
			for y := range height {
				ymin, n := bounds[2*y], bounds[2*y+1]
				k := kk[y*ksize : y*ksize+n]
				for x := range w {
					for ch := range c {
						ss := int64(1) << (pilPrecisionBits - 1)
						for i, kv := range k {
							ss += int64(cur[((ymin+i)*w+x)*c+ch]) * int64(kv)
						}
						next[(y*w+x)*c+ch] = pilClip8(ss)
					}
				}
			}
			cur, h = next, height
		}
		dst := out.Pix[out.At(b, 0, 0) : out.At(b, 0, 0)+len(cur)]
		for i, v := range cur {
			dst[i] = float32(v) / 255
		}
	}
	return out
}

// pilClip8 shifts a fixed-point sum back to 8 bits, clamping to 0..255.
func pilClip8(ss int64) uint8 {
	v := ss >> pilPrecisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// pilLanczos is Pillow's lanczos_filter: sinc(x)·sinc(x/3) on [-3, 3).
func pilLanczos(x float64) float64 {
	if x < -3 || x >= 3 {
		return 0
	}
	return pilSinc(x) * pilSinc(x/3)
}

func pilSinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x = float64(x * math.Pi)
	return pmath.Sin(x) / x
}

// pilCoeffs is Pillow's precompute_coeffs + normalize_coeffs_8bpc for a
// resize of inSize to outSize over the whole input: per output index the
// first source index and tap count (bounds), and ksize fixed-point weights
// each (kk).
func pilCoeffs(inSize, outSize int) (bounds []int, kk []int32, ksize int) {
	const support = 3.0
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1.0)
	sup := float64(support * filterscale)
	ksize = int(math.Ceil(sup))*2 + 1
	bounds = make([]int, 2*outSize)
	kk = make([]int32, outSize*ksize)
	pre := make([]float64, ksize)
	ss := 1.0 / filterscale
	for xx := range outSize {
		center := float64((float64(xx) + 0.5) * scale)
		xmin := int(center - sup + 0.5) // C cast: truncation toward zero
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + sup + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		clear(pre)
		ww := 0.0
		for x := range xmax {
			w := pilLanczos(float64((float64(x+xmin) - center + 0.5) * ss))
			pre[x] = w
			ww += w
		}
		for x := range xmax {
			if ww != 0 {
				pre[x] /= ww
			}
		}
		k := kk[xx*ksize : (xx+1)*ksize]
		for x, w := range pre {
			if w < 0 {
				k[x] = int32(-0.5 + float64(w*(1<<pilPrecisionBits)))
			} else {
				k[x] = int32(0.5 + float64(w*(1<<pilPrecisionBits)))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return bounds, kk, ksize
}
