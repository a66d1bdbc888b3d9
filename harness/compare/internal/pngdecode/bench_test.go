package pngdecode

import (
	"bytes"
	stdzlib "compress/zlib"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixture is the 1024² RGB golden that hack/comparebench.sh starts from.
func fixture(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "golden", "cpu", "api-mixed-sd15-sdxl-refine", "default.seed-1.26-0.png"))
	if err != nil {
		b.Skipf("no 1024² fixture golden: %v", err)
	}
	return data
}

// BenchmarkDecodeFixture1024 compares, on the same file in one run: this
// package (klauspost/compress's inflate), this package with the standard
// library's inflate, and image/png (then the comparator's conversion, a
// no-op for RGB: opaque RGBA bytes are NRGBA bytes).
func BenchmarkDecodeFixture1024(b *testing.B) {
	data := fixture(b)
	stdInflate := func(r io.Reader) (io.ReadCloser, error) { return stdzlib.NewReader(r) }
	for _, bc := range []struct {
		name string
		fn   func() (image.Image, error)
	}{
		{"pngdecode", func() (image.Image, error) { return Decode(data) }},
		{"pngdecode-stdinflate", func() (image.Image, error) { return decode(data, stdInflate) }},
		{"image-png", func() (image.Image, error) { return png.Decode(bytes.NewReader(data)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(1024 * 1024 * 4)
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := bc.fn(); err != nil {
					b.Fatal(err)
				}
			}
			if start != 0 {
				b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
