package resample

import (
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
)

// Upscale methods of ImageScale (and, but for bislerp, LatentUpscale).
var ImageMethods = []string{"nearest-exact", "bilinear", "area", "bicubic", "lanczos"}

// Crop methods of ImageScale / LatentUpscale.
var CropMethods = []string{"disabled", "center"}

// Upscale resizes every sample of img to width×height, as ComfyUI's
// comfy.utils.common_upscale: an optional centre crop to the target aspect
// ratio, then one of
//
//   - "nearest-exact": torch nearest-exact (src = floor((dst+0.5)·in/out));
//   - "bilinear": torch bilinear, align_corners=False, no antialias;
//   - "area": torch adaptive average pooling;
//   - "bicubic": torch bicubic, A = −0.75, align_corners=False, border
//     clamped, results not clipped (they may overshoot 0..1);
//   - "lanczos": what ComfyUI does for lanczos: quantise to uint8, resample
//     with Pillow's LANCZOS (a = 3, support widened when shrinking, 22-bit
//     fixed-point coefficients, horizontal pass then vertical), and back to
//     x/255.
//
// All arithmetic is float32 in a fixed order, with every product rounded on
// its own (no fused multiply-add), so results are bit-identical across runs
// and platforms. Channels are independent, so a latent [B, C, h, w] can be
// resized as an Image{N: B·C, H: h, W: w, C: 1} over the same data.
func Upscale(img *node.Image, width, height int, method, crop string) (*node.Image, error) {
	if img == nil {
		return nil, fmt.Errorf("upscale: nil image")
	}
	if width < 1 || height < 1 || img.W < 1 || img.H < 1 {
		return nil, fmt.Errorf("upscale %dx%d to %dx%d: sizes must be positive", img.W, img.H, width, height)
	}
	if len(img.Pix) != img.N*img.H*img.W*img.C {
		return nil, fmt.Errorf("upscale: %d values for shape [%d %d %d %d]", len(img.Pix), img.N, img.H, img.W, img.C)
	}
	src := img
	switch crop {
	case "disabled", "":
	case "center":
		src = CenterCrop(img, width, height)
	default:
		return nil, fmt.Errorf("upscale: unknown crop %q (want disabled or center)", crop)
	}
	switch method {
	case "nearest-exact":
		return nearestExact(src, width, height), nil
	case "bilinear":
		return bilinear(src, width, height), nil
	case "area":
		return area(src, width, height), nil
	case "bicubic":
		return bicubic(src, width, height), nil
	case "lanczos":
		return lanczos(src, width, height), nil
	default:
		return nil, fmt.Errorf("upscale: unknown method %q (want one of %v)", method, ImageMethods)
	}
}

// CenterCrop crops img to the aspect ratio of width×height, centred,
// with common_upscale's Python rounding (half to even).
func CenterCrop(img *node.Image, width, height int) *node.Image {
	oldAspect := float64(img.W) / float64(img.H)
	newAspect := float64(width) / float64(height)
	x, y := 0, 0
	if oldAspect > newAspect {
		x = int(math.RoundToEven((float64(img.W) - float64(float64(img.W)*(newAspect/oldAspect))) / 2))
	} else if oldAspect < newAspect {
		y = int(math.RoundToEven((float64(img.H) - float64(float64(img.H)*(oldAspect/newAspect))) / 2))
	}
	if x == 0 && y == 0 {
		return img
	}
	w, h := img.W-2*x, img.H-2*y
	out := node.NewImage(img.N, h, w, img.C)
	row := w * img.C
	for b := range img.N {
		for r := range h {
			s := img.At(b, r+y, x)
			copy(out.Pix[out.At(b, r, 0):out.At(b, r, 0)+row], img.Pix[s:s+row])
		}
	}
	return out
}

// torchScale is torch's scale for a size-given resize: float(in)/out.
func torchScale(in, out int) float32 { return float32(in) / float32(out) }

// sourceIndex is area_pixel_compute_source_index, align_corners=False.
func sourceIndex(scale float32, dst int) float32 {
	return float32(scale*(float32(dst)+0.5)) - 0.5
}

func nearestExact(img *node.Image, width, height int) *node.Image {
	sx, sy := torchScale(img.W, width), torchScale(img.H, height)
	xs := make([]int, width)
	for o := range xs {
		xs[o] = min(int(math.Floor(float64(float32((float64(o)+0.5)*float64(sx))))), img.W-1)
	}
	out := node.NewImage(img.N, height, width, img.C)
	for b := range img.N {
		for oy := range height {
			iy := min(int(math.Floor(float64(float32((float64(oy)+0.5)*float64(sy))))), img.H-1)
			for ox, ix := range xs {
				copy(out.Pix[out.At(b, oy, ox):out.At(b, oy, ox)+img.C], img.Pix[img.At(b, iy, ix):])
			}
		}
	}
	return out
}

// linearTaps is compute_source_index_and_lambda for one axis.
func linearTaps(in, out int) (i0, i1 []int, l0, l1 []float32) {
	i0, i1 = make([]int, out), make([]int, out)
	l0, l1 = make([]float32, out), make([]float32, out)
	scale := torchScale(in, out)
	for o := range out {
		if in == out {
			i0[o], i1[o], l0[o], l1[o] = o, o, 1, 0
			continue
		}
		real := max(sourceIndex(scale, o), 0)
		idx := min(int(math.Floor(float64(real))), in-1)
		lam := min(max(real-float32(idx), 0), 1)
		i0[o], l1[o] = idx, lam
		i1[o] = idx
		if idx < in-1 {
			i1[o] = idx + 1
		}
		l0[o] = 1 - lam
	}
	return i0, i1, l0, l1
}

// bilinear interpolates each needed source row horizontally, then
// combines two rows: out = (x00·w0 + x01·w1)·h0 + (x10·w0 + x11·w1)·h1, the
// order of torch's generic kernel.
func bilinear(img *node.Image, width, height int) *node.Image {
	x0, x1, wx0, wx1 := linearTaps(img.W, width)
	y0, y1, wy0, wy1 := linearTaps(img.H, height)
	c := img.C
	out := node.NewImage(img.N, height, width, c)
	rows := make([]float32, img.H*width*c) // horizontal pass of every source row
	for b := range img.N {
		for y := range img.H {
			src := img.Pix[img.At(b, y, 0):]
			dst := rows[y*width*c:]
			for ox := range width {
				a, e := x0[ox]*c, x1[ox]*c
				for k := range c {
					dst[ox*c+k] = float32(src[a+k]*wx0[ox]) + float32(src[e+k]*wx1[ox])
				}
			}
		}
		for oy := range height {
			top, bot := rows[y0[oy]*width*c:], rows[y1[oy]*width*c:]
			dst := out.Pix[out.At(b, oy, 0):]
			for i := range width * c {
				dst[i] = float32(top[i]*wy0[oy]) + float32(bot[i]*wy1[oy])
			}
		}
	}
	return out
}

// cubicTaps returns, per output index, 4 clamped source indices and
// their weights (torch's bicubic, A = -0.75).
func cubicTaps(in, out int) ([][4]int, [][4]float32) {
	idx := make([][4]int, out)
	wts := make([][4]float32, out)
	scale := torchScale(in, out)
	for o := range out {
		real := sourceIndex(scale, o)
		i := min(int(math.Floor(float64(real))), in-1)
		t := min(max(real-float32(i), 0), 1)
		wts[o] = cubicCoeffs(t)
		for j := range 4 {
			idx[o][j] = max(min(i-1+j, in-1), 0)
		}
	}
	return idx, wts
}

// cubicCoeffs is get_cubic_upsample_coefficients with A = -0.75.
func cubicCoeffs(t float32) [4]float32 {
	const a = float32(-0.75)
	conv1 := func(x float32) float32 { // |x| <= 1
		v := float32((a+2)*x) - (a + 3)
		v = float32(v * x)
		return float32(v*x) + 1
	}
	conv2 := func(x float32) float32 { // 1 < |x| < 2
		v := float32(a*x) - 5*a
		v = float32(v*x) + 8*a
		return float32(v*x) - 4*a
	}
	return [4]float32{conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)}
}

// bicubic is separable like bilinear, with four taps per axis:
// rows are ((x0·w0 + x1·w1) + x2·w2) + x3·w3, then combined the same way.
func bicubic(img *node.Image, width, height int) *node.Image {
	xi, xw := cubicTaps(img.W, width)
	yi, yw := cubicTaps(img.H, height)
	c := img.C
	out := node.NewImage(img.N, height, width, c)
	rows := make([]float32, img.H*width*c)
	for b := range img.N {
		for y := range img.H {
			src := img.Pix[img.At(b, y, 0):]
			dst := rows[y*width*c:]
			for ox := range width {
				for k := range c {
					var acc float32
					for i := range 4 {
						acc += float32(src[xi[ox][i]*c+k] * xw[ox][i])
					}
					dst[ox*c+k] = acc
				}
			}
		}
		for oy := range height {
			dst := out.Pix[out.At(b, oy, 0) : out.At(b, oy, 0)+width*c]
			for j := range 4 {
				row, w := rows[yi[oy][j]*width*c:], yw[oy][j]
				for i := range dst {
					dst[i] += float32(row[i] * w)
				}
			}
		}
	}
	return out
}

// area is adaptive average pooling: output cell o covers source cells
// [floor(o·in/out), ceil((o+1)·in/out)).
func area(img *node.Image, width, height int) *node.Image {
	span := func(o, in, out int) (int, int) {
		return o * in / out, ((o+1)*in + out - 1) / out
	}
	out := node.NewImage(img.N, height, width, img.C)
	sum := make([]float32, img.C)
	for b := range img.N {
		for oy := range height {
			ya, yb := span(oy, img.H, height)
			for ox := range width {
				xa, xb := span(ox, img.W, width)
				clear(sum)
				for iy := ya; iy < yb; iy++ {
					for ix := xa; ix < xb; ix++ {
						p := img.At(b, iy, ix)
						for k := range sum {
							sum[k] += img.Pix[p+k]
						}
					}
				}
				n := float32((yb - ya) * (xb - xa))
				o := out.At(b, oy, ox)
				for k, s := range sum {
					out.Pix[o+k] = s / n
				}
			}
		}
	}
	return out
}

// TargetSize applies the zero rules of ImageScale (least = 1) and
// LatentUpscale (least = 64) to a w×h input asked for width×height: both 0
// passes the input through, one 0 keeps the aspect ratio (Python round),
// and every side is at least least.
func TargetSize(w, h, width, height, least int) (int, int, bool) {
	switch {
	case width == 0 && height == 0:
		return w, h, true
	case width == 0:
		height = max(least, height)
		width = int(math.RoundToEven(float64(w) * float64(height) / float64(h)))
	case height == 0:
		width = max(least, width)
		height = int(math.RoundToEven(float64(h) * float64(width) / float64(w)))
	}
	return max(least, width), max(least, height), false
}
