package loader

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/node"
)

// PixelSpace is the VAELoader option that loads no file: the pixel-space
// "VAE" that models working on pixels use.
const PixelSpace = "pixel_space"

// PixelSpaceVAE is ComfyUI 0.33.0's pixel-space VAE (comfy/sd.py VAE with
// "pixel_space_vae", comfy/pixel_space_convert.py): the latent is the
// image itself, channels first, scaled from 0..1 to -1..1. Encode keeps at
// most three channels; Decode maps back and clamps to 0..1, with as many
// channels as the latent has (a 4-channel latent decodes to RGBA). The
// arithmetic is float32, operation by operation, as torch's on the CPU.
type PixelSpaceVAE struct{}

var _ node.VAE = PixelSpaceVAE{}

// Downscale implements node.VAE: pixels and latents have the same size.
func (PixelSpaceVAE) Downscale() int { return 1 }

// Encode implements node.VAE: img [B,H,W,C] → latent [B,min(C,3),H,W],
// each value v as v*2-1.
func (PixelSpaceVAE) Encode(ctx context.Context, img *node.Image) (*node.Tensor, error) {
	if img == nil || img.N < 1 || img.H < 1 || img.W < 1 || img.C < 1 || len(img.Pix) != img.N*img.H*img.W*img.C {
		return nil, fmt.Errorf("encode image: not an image")
	}
	c := min(img.C, 3)
	out := node.NewTensor(img.N, c, img.H, img.W)
	for b := range img.N {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("encode image: %w", err)
		}
		for y := range img.H {
			for x := range img.W {
				i := img.At(b, y, x)
				for ch := range c {
					v := float32(img.Pix[i+ch] * 2)
					out.Data[((b*c+ch)*img.H+y)*img.W+x] = float32(v - 1)
				}
			}
		}
	}
	return out, nil
}

// Decode implements node.VAE: latent [B,C,H,W] → image [B,H,W,C], each
// value v as clamp((v+1)/2, 0, 1).
func (PixelSpaceVAE) Decode(ctx context.Context, lat *node.Tensor) (*node.Image, error) {
	if lat == nil || len(lat.Shape) != 4 || lat.Shape[0] < 1 || lat.Shape[1] < 1 || lat.Shape[2] < 1 || lat.Shape[3] < 1 || len(lat.Data) != lat.Numel() {
		var shape []int
		if lat != nil {
			shape = lat.Shape
		}
		return nil, fmt.Errorf("decode latent: shape %v, want [B, C, h, w]", shape)
	}
	n, c, h, w := lat.Shape[0], lat.Shape[1], lat.Shape[2], lat.Shape[3]
	img := node.NewImage(n, h, w, c)
	for b := range n {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("decode latent: %w", err)
		}
		for ch := range c {
			for y := range h {
				for x := range w {
					v := float32(lat.Data[((b*c+ch)*h+y)*w+x] + 1)
					v = float32(v / 2)
					img.Pix[img.At(b, y, x)+ch] = min(max(v, 0), 1)
				}
			}
		}
	}
	return img, nil
}
