package image

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
	"github.com/regen-dev/regen/executor/nodes/internal/resample"
	"github.com/regen-dev/regen/internal/testutil"
)

func benchImage(n, h, w int) *node.Image {
	img := node.NewImage(n, h, w, 3)
	for i := range img.Pix {
		img.Pix[i] = float32((i*7919)%1000) / 1000
	}
	return img
}

// BenchmarkEncodePNG is the per-image cost of encoding a synthetic 512×512
// image at the default level and at level 1 (SaveImage's and PreviewImage's),
// and of the suite's one 1024² output (the committed golden of
// api-mixed-sd15-sdxl-refine, a real image) at both, with the bytes each
// level writes:
//
//	go test -run '^$' -bench EncodePNG ./executor/nodes/image
func BenchmarkEncodePNG(b *testing.B) {
	pngs, err := filepath.Glob(testutil.Path(b, "golden", "cpu", "api-mixed-sd15-sdxl-refine", "*.png"))
	if err != nil || len(pngs) == 0 {
		b.Fatalf("no golden PNG of api-mixed-sd15-sdxl-refine (%v)", err)
	}
	data, err := os.ReadFile(pngs[0])
	if err != nil {
		b.Fatal(err)
	}
	big, _, err := decode(data)
	if err != nil {
		b.Fatal(err)
	}
	for _, im := range []struct {
		name string
		img  *node.Image
	}{{"512", benchImage(1, 512, 512)}, {"1024", big}} {
		for _, lv := range []struct {
			name  string
			level png.CompressionLevel
		}{{"default", png.DefaultCompression}, {"level1", png.BestSpeed}} {
			b.Run(im.name+"-"+lv.name, func(b *testing.B) {
				var n int
				for b.Loop() {
					out, err := pngmeta.Encode(im.img, 0, nil, lv.level)
					if err != nil {
						b.Fatal(err)
					}
					n = len(out)
				}
				b.ReportMetric(float64(n), "png-bytes")
			})
		}
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
