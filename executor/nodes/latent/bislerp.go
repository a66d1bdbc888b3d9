package latent

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// bislerp is comfy.utils.bislerp: a separable resize (width, then
// height) that, at every output position, spherically interpolates between
// the two neighbouring source positions' channel vectors — the direction by
// slerp, the length linearly — instead of interpolating each channel on its
// own. Neighbours and ratios come from torch's bilinear source positions
// (align_corners=False), as ComfyUI derives them by resizing a coordinate
// ramp bilinearly. Nearly parallel vectors take the first neighbour,
// nearly opposite ones a linear blend, as ComfyUI.
func bislerp(t *node.Tensor, width, height int) *node.Tensor {
	n, c, h, w := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	// Width pass: [n, c, h, w] → [n, c, h, width].
	r, c1, c2 := bislerpTaps(w, width)
	mid := node.NewTensor(n, c, h, width)
	b1, b2 := make([]float64, c), make([]float64, c)
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < width; x++ {
				for ch := 0; ch < c; ch++ {
					row := ((b*c+ch)*h + y) * w
					b1[ch] = float64(t.Data[row+c1[x]])
					b2[ch] = float64(t.Data[row+c2[x]])
				}
				res := slerp(b1, b2, r[x])
				for ch := 0; ch < c; ch++ {
					mid.Data[((b*c+ch)*h+y)*width+x] = float32(res[ch])
				}
			}
		}
	}
	// Height pass: [n, c, h, width] → [n, c, height, width].
	r, c1, c2 = bislerpTaps(h, height)
	out := node.NewTensor(n, c, height, width)
	for b := 0; b < n; b++ {
		for y := 0; y < height; y++ {
			for x := 0; x < width; x++ {
				for ch := 0; ch < c; ch++ {
					plane := (b*c + ch) * h * width
					b1[ch] = float64(mid.Data[plane+c1[y]*width+x])
					b2[ch] = float64(mid.Data[plane+c2[y]*width+x])
				}
				res := slerp(b1, b2, r[y])
				for ch := 0; ch < c; ch++ {
					out.Data[((b*c+ch)*height+y)*width+x] = float32(res[ch])
				}
			}
		}
	}
	return out
}

// bislerpTaps is generate_bilinear_data: for each output index, the
// bilinearly resized coordinate ramp 0..L−1 gives the first neighbour
// (truncated) and the ratio (its fraction); the ramp 1..L−1, L−1 gives the
// second neighbour. Evaluated in float32 as torch does.
func bislerpTaps(in, out int) (ratio []float64, first, second []int) {
	scale := float32(in) / float32(out)
	ratio = make([]float64, out)
	first, second = make([]int, out), make([]int, out)
	ramp2 := func(i int) float32 {
		if i == in-1 {
			return float32(in - 1)
		}
		return float32(i + 1)
	}
	for o := 0; o < out; o++ {
		src := float32(float32(float32(o)+0.5)*scale) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		i1 := min(i0+1, in-1)
		l1 := src - float32(i0)
		l0 := 1 - l1
		v1 := float32(l0*float32(i0)) + float32(l1*float32(i1))
		v2 := float32(l0*ramp2(i0)) + float32(l1*ramp2(i1))
		ratio[o] = float64(v1 - float32(math.Floor(float64(v1))))
		first[o] = int(v1)
		second[o] = int(v2)
	}
	return ratio, first, second
}

// slerp is bislerp's slerp for one pair of channel vectors.
func slerp(b1, b2 []float64, r float64) []float64 {
	var n1, n2 float64
	for i := range b1 {
		n1 += float64(b1[i] * b1[i])
		n2 += float64(b2[i] * b2[i])
	}
	n1, n2 = math.Sqrt(n1), math.Sqrt(n2)
	u := func(v []float64, n float64, i int) float64 {
		if n == 0 {
			return 0
		}
		return v[i] / n
	}
	var dot float64
	for i := range b1 {
		dot += float64(u(b1, n1, i) * u(b2, n2, i))
	}
	res := make([]float64, len(b1))
	switch {
	case dot > 1-1e-5:
		copy(res, b1)
	case dot < 1e-5-1:
		for i := range res {
			res[i] = float64(b1[i]*(1-r)) + float64(b2[i]*r)
		}
	default:
		omega := pmath.Acos(dot)
		so := pmath.Sin(omega)
		w1, w2 := pmath.Sin((1-r)*omega)/so, pmath.Sin(r*omega)/so
		scale := float64(n1*(1-r)) + float64(n2*r)
		for i := range res {
			res[i] = (float64(w1*u(b1, n1, i)) + float64(w2*u(b2, n2, i))) * scale
		}
	}
	return res
}
