package model

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/node"
)

// VAE maps 8×8 RGB patches to C latent values with a linear (PCA)
// projection, and back with codebook attention: each latent position's 3×3
// latent neighbourhood q attends over a codebook of exemplar
// neighbourhoods k_j whose values are the exemplar pixel patch and the
// neighbourhood itself. The codebook supplies the detail the linear
// decoder cannot (patch_j − Lin(z_j)), gated by how well the codebook
// matched:
//
//	pixels = Lin(z) + g · Σ_j w_j (patch_j − Lin(z_j)),  g = exp(−‖q − Σ_j w_j k_j‖² / 2γ)
//
// On the native codebook detail has no latent component (Enc∘Lin = I), so
// Encode(Decode(z)) = z up to clipping: crisp on the exemplar distribution,
// linear off it. There is one codebook per latent size class (e.g. 16, 32
// and 64 for 128², 256² and 512² images): its keys are the exemplar latents
// as the model resamples them to that size and its patches the scenes
// rendered at that size, so resampled exemplars decode crisply too.
type VAE struct {
	be       backend.Attender
	c, ds, p int
	w        *VAEWeights
	variance float32
	gate     float64
	books    []book
}

// book is a codebook ready for attention.
type book struct {
	side float64
	n    int
	keys []float32 // [N, 9C]
	norm []float32 // [N]
	vals []float32 // [N, P+9C]: patch, then key
}

var _ node.VAE = (*VAE)(nil)

// NewVAE builds the VAE of a checkpoint.
func NewVAE(cfg *Config, w *VAEWeights, be backend.Attender) *VAE {
	v := &VAE{be: be, c: cfg.LatentChannels, ds: cfg.Downscale, p: cfg.patchDim(), w: w,
		variance: float32(cfg.CodebookVariance), gate: cfg.DetailGate}
	d, dv := 9*v.c, v.p+9*v.c
	for _, cb := range w.Codebooks {
		bk := book{side: float64(cb.Side), n: cb.N, keys: cb.Keys, norm: make([]float32, cb.N), vals: make([]float32, cb.N*dv)}
		for j := range bk.norm {
			key := cb.Keys[j*d : (j+1)*d]
			bk.norm[j] = sqNorm(key)
			copy(bk.vals[j*dv:], cb.Patch[j*v.p:(j+1)*v.p])
			copy(bk.vals[j*dv+v.p:], key)
		}
		v.books = append(v.books, bk)
	}
	return v
}

// bookFor picks the codebook whose side is nearest to √(h·w) in log scale
// (the first on ties).
func (v *VAE) bookFor(h, w int) (*book, error) {
	if len(v.books) == 0 {
		return nil, fmt.Errorf("decode latent: the VAE has no codebook")
	}
	size := math.Sqrt(float64(h * w))
	best := 0
	for i := range v.books {
		if math.Abs(pmath.Log(v.books[i].side/size)) < math.Abs(pmath.Log(v.books[best].side/size)) {
			best = i
		}
	}
	return &v.books[best], nil
}

func sqNorm(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(float64(v) * float64(v))
	}
	return float32(s)
}

// Downscale implements node.VAE.
func (v *VAE) Downscale() int { return v.ds }

// Encode implements node.VAE: img [B,H,W,≥3] → latent [B,C,H/8,W/8]
// (rows and columns beyond a multiple of 8 are cropped, as ComfyUI does).
func (v *VAE) Encode(ctx context.Context, img *node.Image) (*node.Tensor, error) {
	if img == nil || img.C < 3 || img.H < v.ds || img.W < v.ds {
		return nil, fmt.Errorf("encode image: need at least %d×%d pixels with 3 channels", v.ds, v.ds)
	}
	h, w := img.H/v.ds, img.W/v.ds
	out := node.NewTensor(img.N, v.c, h, w)
	patch := make([]float64, v.p)
	for b := 0; b < img.N; b++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("encode image: %w", err)
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for dy := 0; dy < v.ds; dy++ {
					for dx := 0; dx < v.ds; dx++ {
						i := img.At(b, y*v.ds+dy, x*v.ds+dx)
						for ch := 0; ch < 3; ch++ {
							k := (dy*v.ds+dx)*3 + ch
							patch[k] = float64(img.Pix[i+ch]) - float64(v.w.Mean[k])
						}
					}
				}
				for c := 0; c < v.c; c++ {
					row := v.w.Encoder[c*v.p : (c+1)*v.p]
					var s float64
					for k, e := range row {
						s += float64(float64(e) * patch[k])
					}
					out.Data[((b*v.c+c)*h+y)*w+x] = float32(s)
				}
			}
		}
	}
	return out, nil
}

// Neighbourhood writes the 3×3×C neighbourhood of (y, x) of latent image
// lat [C,h,w] into dst, clamping at the borders; order (dy, dx, c). It is
// the key of a VAE codebook entry and of a decoder query.
func Neighbourhood(dst, lat []float32, c, h, w, y, x int) {
	i := 0
	for dy := -1; dy <= 1; dy++ {
		yy := clampInt(y+dy, 0, h-1)
		for dx := -1; dx <= 1; dx++ {
			xx := clampInt(x+dx, 0, w-1)
			for ch := 0; ch < c; ch++ {
				dst[i] = lat[(ch*h+yy)*w+xx]
				i++
			}
		}
	}
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func checkLatent(t *node.Tensor, c int) (b, h, w int, err error) {
	if t == nil || len(t.Shape) != 4 || t.Shape[1] != c || t.Shape[0] < 1 || t.Shape[2] < 1 || t.Shape[3] < 1 || len(t.Data) != t.Numel() {
		var shape []int
		if t != nil {
			shape = t.Shape
		}
		return 0, 0, 0, fmt.Errorf("check latent: shape %v, want [B, %d, h, w]", shape, c)
	}
	return t.Shape[0], t.Shape[2], t.Shape[3], nil
}

// Decode implements node.VAE: latent [B,C,h,w] → image [B,8h,8w,3] in 0..1.
func (v *VAE) Decode(ctx context.Context, lat *node.Tensor) (*node.Image, error) {
	B, h, w, err := checkLatent(lat, v.c)
	if err != nil {
		return nil, fmt.Errorf("decode latent: %w", err)
	}
	bk, err := v.bookFor(h, w)
	if err != nil {
		return nil, err
	}
	d, dv := 9*v.c, v.p+9*v.c
	nq := B * h * w
	q := make([]float32, nq*d)
	for b := 0; b < B; b++ {
		img := lat.Data[b*v.c*h*w : (b+1)*v.c*h*w]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				Neighbourhood(q[((b*h+y)*w+x)*d:], img, v.c, h, w, y, x)
			}
		}
	}
	out := make([]float32, nq*dv)
	err = v.be.Attention(ctx, &backend.AttentionArgs{NQ: nq, NK: bk.n, D: d, DV: dv,
		Q: q, K: bk.keys, KNorm: bk.norm, V: bk.vals, Variance: v.variance, Out: out})
	if err != nil {
		return nil, fmt.Errorf("decode latent: %w", err)
	}
	img := node.NewImage(B, h*v.ds, w*v.ds, 3)
	z := make([]float64, v.c)
	centre := 4 * v.c // (dy, dx) = (0, 0) in the 3×3 key
	base := make([]float32, v.p)
	for i := 0; i < nq; i++ {
		b, y, x := i/(h*w), (i/w)%h, i%w
		o := out[i*dv : (i+1)*dv]
		key := o[v.p:]
		var r2 float64
		for t, kv := range key {
			dq := float64(q[i*d+t]) - float64(kv)
			r2 += float64(dq * dq)
		}
		g := pmath.Exp(-r2 / (2 * v.gate))
		// base = mean + g·(patch − mean − Dec·ẑ); then + Dec·z below.
		for c := range z {
			z[c] = float64(lat.Data[((b*v.c+c)*h+y)*w+x])
		}
		for k := range base {
			row := v.w.Decoder[k*v.c : (k+1)*v.c]
			var lz float64
			for c := 0; c < v.c; c++ {
				lz += float64(float64(row[c]) * float64(key[centre+c]))
			}
			base[k] = float32(float64(v.w.Mean[k]) + float64(g*(float64(o[k])-float64(v.w.Mean[k])-lz)))
		}
		v.writePatch(img, b, y, x, base, z)
	}
	return img, nil
}

// writePatch stores base + Dec·resid, clipped to 0..1, at latent (y, x).
func (v *VAE) writePatch(img *node.Image, b, y, x int, base []float32, resid []float64) {
	for dy := 0; dy < v.ds; dy++ {
		for dx := 0; dx < v.ds; dx++ {
			i := img.At(b, y*v.ds+dy, x*v.ds+dx)
			for ch := 0; ch < 3; ch++ {
				k := (dy*v.ds+dx)*3 + ch
				s := float64(base[k])
				row := v.w.Decoder[k*v.c : (k+1)*v.c]
				for c, r := range resid {
					s += float64(float64(row[c]) * r)
				}
				img.Pix[i+ch] = float32(min(max(s, 0), 1))
			}
		}
	}
}

// DecodeLinear decodes with the linear (PCA) decoder only: blurry blocks,
// the baseline the codebook decoder improves on.
func (v *VAE) DecodeLinear(lat *node.Tensor) (*node.Image, error) {
	B, h, w, err := checkLatent(lat, v.c)
	if err != nil {
		return nil, fmt.Errorf("decode latent: %w", err)
	}
	img := node.NewImage(B, h*v.ds, w*v.ds, 3)
	z := make([]float64, v.c)
	for b := 0; b < B; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for c := range z {
					z[c] = float64(lat.Data[((b*v.c+c)*h+y)*w+x])
				}
				v.writePatch(img, b, y, x, v.w.Mean, z)
			}
		}
	}
	return img, nil
}
