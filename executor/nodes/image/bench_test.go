package image

import (
	"image/png"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
	"github.com/regen-dev/regen/executor/nodes/internal/resample"
)

func benchImage(n, h, w int) *node.Image {
	img := node.NewImage(n, h, w, 3)
	for i := range img.Pix {
		img.Pix[i] = float32((i*7919)%1000) / 1000
	}
	return img
}

// BenchmarkEncodePNG is SaveImage's per-image cost at 512×512 (default level)
// and PreviewImage's (level 1).
func BenchmarkEncodePNG(b *testing.B) {
	img := benchImage(1, 512, 512)
	for _, lv := range []struct {
		name  string
		level png.CompressionLevel
	}{{"save-default", png.DefaultCompression}, {"preview-level1", png.BestSpeed}} {
		b.Run(lv.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := pngmeta.Encode(img, 0, nil, lv.level); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCommonUpscale resizes one 512×512 RGB image to 768×768.
func BenchmarkCommonUpscale(b *testing.B) {
	img := benchImage(1, 512, 512)
	for _, m := range resample.ImageMethods {
		b.Run(m, func(b *testing.B) {
			for b.Loop() {
				if _, err := resample.Upscale(img, 768, 768, m, "disabled"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodePNG is LoadImage's decode of a 512×512 RGB PNG.
func BenchmarkDecodePNG(b *testing.B) {
	data, err := pngmeta.Encode(benchImage(1, 512, 512), 0, nil, png.DefaultCompression)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
