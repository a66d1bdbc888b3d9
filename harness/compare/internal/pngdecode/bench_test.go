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

	"github.com/regen-dev/regen/internal/lsbnoise"

	"github.com/klauspost/compress/zlib"

	"github.com/regen-dev/regen/internal/cputime"
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

// noisyCopy is the fixture with hack/comparepair's ±1 LSB noise in a
// quarter of its channel values, encoded by image/png: mostly Up rows and
// 2.7 times the compressed bytes, where the fixture is 95 % Paeth rows.
func noisyCopy(b *testing.B, data []byte) []byte {
	b.Helper()
	img, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	lsbnoise.Apply(img.Pix)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodeFixture1024 compares, on the same files in one run: this
// package (inflate, into one flat buffer), this package with a zlib
// stream decoder instead (klauspost/compress's, the standard library's),
// and image/png (then the comparator's conversion, a no-op for RGB: opaque
// RGBA bytes are NRGBA bytes), on the 1024² fixture golden and its noisy
// copy.
func BenchmarkDecodeFixture1024(b *testing.B) {
	golden := fixture(b)
	stdInflate := func(r io.Reader) (io.ReadCloser, error) { return stdzlib.NewReader(r) }
	for _, file := range []struct {
		name string
		data []byte
	}{{"golden", golden}, {"noisy", noisyCopy(b, golden)}} {
		data := file.data
		for _, bc := range []struct {
			name string
			fn   func() (image.Image, error)
		}{
			{"pngdecode", func() (image.Image, error) { return Decode(data) }},
			{"pngdecode-klauspost", func() (image.Image, error) { return decodeStream(data, zlib.NewReader) }},
			{"pngdecode-stdinflate", func() (image.Image, error) { return decodeStream(data, stdInflate) }},
			{"image-png", func() (image.Image, error) { return png.Decode(bytes.NewReader(data)) }},
		} {
			b.Run(file.name+"/"+bc.name, func(b *testing.B) {
				b.SetBytes(1024 * 1024 * 4)
				b.ReportAllocs()
				start := cputime.Process()
				for b.Loop() {
					if _, err := bc.fn(); err != nil {
						b.Fatal(err)
					}
				}
				if start != 0 {
					b.ReportMetric(float64(cputime.Process()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
				}
			})
		}
	}
}

// BenchmarkInflateFixture1024 times the image data's decompression alone,
// into a buffer reused across iterations (no allocation, no page
// faults): inflate against klauspost/compress's and the standard
// library's zlib stream decoders, on the fixture golden and its noisy
// copy.
func BenchmarkInflateFixture1024(b *testing.B) {
	golden := fixture(b)
	for _, file := range []struct {
		name string
		data []byte
	}{{"golden", golden}, {"noisy", noisyCopy(b, golden)}} {
		l, idat, err := parse(file.data)
		if err != nil {
			b.Fatal(err)
		}
		z := bytes.Join(idat, nil)
		raw := make([]byte, l.h*(1+l.rowBytes))
		stream := func(open zlibOpener) func() error {
			return func() error {
				zr, err := open(bytes.NewReader(z))
				if err != nil {
					return err
				}
				_, err = io.ReadFull(zr, raw)
				return err
			}
		}
		for _, bc := range []struct {
			name string
			fn   func() error
		}{
			{"inflate", func() error { return inflateChecked(raw, z) }},
			{"klauspost", stream(zlib.NewReader)},
			{"stdlib", stream(func(r io.Reader) (io.ReadCloser, error) { return stdzlib.NewReader(r) })},
		} {
			b.Run(file.name+"/"+bc.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				for b.Loop() {
					if err := bc.fn(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
