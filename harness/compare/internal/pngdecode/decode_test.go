package pngdecode

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reference is what the comparator had before this package: image/png's
// image converted to 8-bit NRGBA, pixel by pixel through the colour model.
func reference(tb testing.TB, data []byte) (*image.NRGBA, error) {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetNRGBA(x, y, color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA))
		}
	}
	return out, nil
}

// sameAsReference fails unless Decode(data) gives image/png's pixels, or
// an error for a file image/png refuses too.
func sameAsReference(t *testing.T, data []byte) {
	t.Helper()
	got, err := Decode(data)
	want, wantErr := reference(t, data)
	switch {
	case err != nil && wantErr == nil:
		t.Fatalf("Decode: %v; image/png decodes it", err)
	case err != nil:
		return
	case wantErr != nil:
		t.Fatalf("Decode accepted a file image/png refuses (%v)", wantErr)
	case got.Rect != want.Rect || got.Stride != want.Stride || !bytes.Equal(got.Pix, want.Pix):
		t.Fatalf("pixels differ from image/png's (%v stride %d vs %v stride %d)", got.Rect, got.Stride, want.Rect, want.Stride)
	}
}

// TestGoldensMatchImagePNG decodes every committed golden PNG both ways.
func TestGoldensMatchImagePNG(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..", "..", "golden")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".png") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("list goldens: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("no golden PNG found under " + root)
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, root+"/"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(data); err != nil {
				t.Fatalf("Decode: %v (every golden is 8-bit RGB or RGBA)", err)
			}
			sameAsReference(t, data)
		})
	}
}

// chunk appends one PNG chunk with its checksum.
func chunk(b []byte, typ string, body []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

func ihdr(w, h int, depth, ct, interlace byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(w))
	b = binary.BigEndian.AppendUint32(b, uint32(h))
	return append(b, depth, ct, 0, 0, interlace)
}

// filterRow applies filter ft to row cur given prev (both unfiltered).
func filterRow(ft byte, cur, prev []byte, bpp int) []byte {
	out := make([]byte, len(cur))
	for i := range cur {
		out[i] = cur[i] - byte(predictRef(ft, cur, prev, i, bpp))
	}
	return out
}

// encoded is a PNG written by hand: every row with the filter filters
// gives it, so each filter is exercised whatever image/png's encoder
// would choose.
func encoded(tb testing.TB, w, h, channels int, seed uint64, filters func(y int) byte) []byte {
	tb.Helper()
	ct := map[int]byte{1: ctGray, 2: ctGrayAlpha, 3: ctRGB, 4: ctRGBA}[channels]
	r := rand.New(rand.NewPCG(seed, 1))
	var rawRows bytes.Buffer
	prev := make([]byte, w*channels)
	for y := range h {
		cur := make([]byte, w*channels)
		for i := range cur {
			// Smooth with noise: every predictor is chosen somewhere.
			cur[i] = byte(i/channels*3 + y*5 + r.IntN(24))
		}
		ft := filters(y)
		rawRows.WriteByte(ft)
		rawRows.Write(filterRow(ft, cur, prev, channels))
		prev = cur
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(rawRows.Bytes()); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	b := []byte(signature)
	b = chunk(b, "IHDR", ihdr(w, h, 8, ct, 0))
	b = chunk(b, "tEXt", []byte("prompt\x00{}"))
	// Two IDAT chunks: the stream spans chunks.
	zb := z.Bytes()
	b = chunk(b, "IDAT", zb[:len(zb)/2])
	b = chunk(b, "IDAT", zb[len(zb)/2:])
	return chunk(b, "IEND", nil)
}

// TestLayoutsAndFilters checks every layout with every filter type, and
// with all five mixed, against image/png.
func TestLayoutsAndFilters(t *testing.T) {
	t.Parallel()
	for _, channels := range []int{1, 2, 3, 4} {
		for ft := byte(0); ft <= 5; ft++ {
			name := map[int]string{1: "gray", 2: "grayalpha", 3: "rgb", 4: "rgba"}[channels] + "/" +
				[]string{"none", "sub", "up", "average", "paeth", "mixed"}[ft]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				for _, size := range []image.Point{{1, 1}, {1, 7}, {7, 1}, {33, 17}} {
					data := encoded(t, size.X, size.Y, channels, uint64(ft)+1, func(y int) byte {
						if ft == 5 {
							return byte(y % 5)
						}
						return ft
					})
					if _, err := Decode(data); err != nil {
						t.Fatalf("%v: Decode: %v", size, err)
					}
					sameAsReference(t, data)
				}
			})
		}
	}
}

// TestUnsupported: layouts outside the fast path say ErrUnsupported, so
// the caller decodes them with image/png.
func TestUnsupported(t *testing.T) {
	t.Parallel()
	img16 := image.NewNRGBA64(image.Rect(0, 0, 3, 3))
	img16.Pix[1] = 1
	pal := image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.Black, color.White})
	base := encoded(t, 4, 4, 3, 1, func(int) byte { return 0 })
	withTRNS := append([]byte(nil), base[:8+25]...)
	withTRNS = chunk(withTRNS, "tRNS", []byte{0, 1, 0, 2, 0, 3})
	withTRNS = append(withTRNS, base[8+25:]...)
	interlaced := append([]byte(nil), base...)
	interlaced = append(chunk([]byte(signature), "IHDR", ihdr(4, 4, 8, ctRGB, 1)), interlaced[8+25:]...)
	tests := []struct {
		name string
		data []byte
	}{
		{"16-bit", encodeStd(t, img16)},
		{"paletted", encodeStd(t, pal)},
		{"tRNS", withTRNS},
		{"interlaced", interlaced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Decode(tt.data); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Decode: %v, want ErrUnsupported", err)
			}
		})
	}
}

func encodeStd(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestMalformed: broken files give an error naming what is wrong, never a
// panic, and never an image image/png would not give.
func TestMalformed(t *testing.T) {
	t.Parallel()
	good := encoded(t, 9, 5, 4, 7, func(y int) byte { return byte(y % 5) })
	idatAt := bytes.Index(good, []byte("IDAT")) - 4
	corrupt := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	// A 1×1 image's stream claiming 60000×60000.
	huge := chunk([]byte(signature), "IHDR", ihdr(60000, 60000, 8, ctRGBA, 0))
	huge = append(huge, good[8+25:]...)
	tests := []struct {
		name string
		data []byte
		want string // in the error; ErrTooLarge's text for that error
		// stdAccepts: image/png decodes it all the same. pngdecode is
		// stricter, and a caller falls back to image/png on its error.
		stdAccepts bool
	}{
		{"empty", nil, "not a PNG", false},
		{"byte after the zlib stream", rawPNGZ(t, 2, 2, append(zlibOf(t, []byte{0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6}), 0), false),
			"bytes after the zlib stream", true},
		{"signature only", []byte(signature), "truncated chunk", false},
		{"truncated in IDAT", good[:idatAt+20], "past the end", false},
		{"truncated before IEND", good[:len(good)-12], "truncated chunk", false},
		{"bad CRC", corrupt(func(b []byte) []byte { b[idatAt+10] ^= 1; return b }), "invalid checksum", false},
		{"bad filter byte", encodedBadFilter(t), "bad filter type 7", false},
		{"huge dimensions", huge, ErrTooLarge.Error(), false},
		{"zero width", append(chunk([]byte(signature), "IHDR", ihdr(0, 5, 8, ctRGBA, 0)), good[8+25:]...), "bad dimensions", false},
		{"short image data", encodedShort(t), "not enough pixel data", false},
		{"no IHDR first", chunk([]byte(signature), "IDAT", []byte{1}), "before IHDR", false},
		{"no IDAT", chunk(chunk([]byte(signature), "IHDR", ihdr(1, 1, 8, ctRGB, 0)), "IEND", nil), "IEND before IDAT", false},
		{"bad Adler-32", badAdler(t), "checksum", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img, err := Decode(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode: %v (image %v), want an error with %q", err, img != nil, tt.want)
			}
			if _, err := png.DecodeConfig(bytes.NewReader(tt.data)); err == nil && tt.name == "huge dimensions" {
				return // image/png would allocate 14 GB before finding out
			}
			if _, err := png.Decode(bytes.NewReader(tt.data)); (err == nil) != tt.stdAccepts {
				t.Fatalf("image/png: %v, want it to accept the file: %v", err, tt.stdAccepts)
			}
		})
	}
}

// encodedBadFilter is a 2×2 RGB image whose second row has filter 7.
func encodedBadFilter(tb testing.TB) []byte {
	return rawPNG(tb, 2, 2, []byte{0, 1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6})
}

// encodedShort is a 2×2 RGB image with one row of data.
func encodedShort(tb testing.TB) []byte {
	return rawPNG(tb, 2, 2, []byte{0, 1, 2, 3, 4, 5, 6})
}

// rawPNG is an RGB PNG of the given size whose zlib stream holds rows.
func rawPNG(tb testing.TB, w, h int, rows []byte) []byte {
	tb.Helper()
	return rawPNGZ(tb, w, h, zlibOf(tb, rows), false)
}

func zlibOf(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return z.Bytes()
}

// rawPNGZ is an RGB PNG whose IDAT is z, its last byte flipped with
// breakSum (the Adler-32's low byte: the chunk's CRC stays valid).
func rawPNGZ(tb testing.TB, w, h int, z []byte, breakSum bool) []byte {
	tb.Helper()
	if breakSum {
		z = append([]byte(nil), z...)
		z[len(z)-1] ^= 1
	}
	b := chunk([]byte(signature), "IHDR", ihdr(w, h, 8, ctRGB, 0))
	b = chunk(b, "IDAT", z)
	return chunk(b, "IEND", nil)
}

// badAdler is a 2×2 RGB image whose zlib checksum is wrong.
func badAdler(tb testing.TB) []byte {
	return rawPNGZ(tb, 2, 2, zlibOf(tb, []byte{0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6}), true)
}

// FuzzDecode: on any input Decode returns without panicking, and an image
// it returns is image/png's, pixel for pixel; ErrTooLarge only for files
// image/png refuses too.
func FuzzDecode(f *testing.F) {
	f.Add(encoded(f, 5, 4, 3, 1, func(y int) byte { return byte(y % 5) }))
	f.Add(encoded(f, 3, 6, 4, 2, func(y int) byte { return byte(4 - y%5) }))
	f.Add(encoded(f, 4, 4, 1, 3, func(int) byte { return ftPaeth }))
	f.Add(encoded(f, 4, 4, 2, 4, func(int) byte { return ftAverage }))
	f.Add(encodedBadFilter(f))
	f.Add(encodedShort(f))
	f.Add(badAdler(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data)
		if err != nil {
			if img != nil {
				t.Fatal("an image with an error")
			}
			if !errors.Is(err, ErrTooLarge) {
				return
			}
			cfg, cerr := png.DecodeConfig(bytes.NewReader(data))
			if cerr == nil && cfg.Width*cfg.Height > 1<<22 {
				return // too large to hand image/png in a fuzz run
			}
			if _, err := png.Decode(bytes.NewReader(data)); err == nil {
				t.Fatal("ErrTooLarge for a file image/png decodes")
			}
			return
		}
		sameAsReference(t, data)
	})
}
