package images

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"strings"
	"testing"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestThumbnail(t *testing.T) {
	t.Parallel()
	// 128×64: left half black, right half white.
	src := image.NewRGBA(image.Rect(0, 0, 128, 64))
	for y := 0; y < 64; y++ {
		for x := 64; x < 128; x++ {
			src.Set(x, y, color.White)
		}
		for x := 0; x < 64; x++ {
			src.Set(x, y, color.Black)
		}
	}
	s := Store{Dir: t.TempDir()}
	h, err := s.Put(encodePNG(t, src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		size, w, hgt int
	}{
		{"downscaled to the longer side", 48, 48, 24},
		{"never upscaled", 256, 128, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			uri, err := s.Thumbnail(h, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(uri, DataURIPrefix) {
				t.Fatalf("not a PNG data URI: %.40s", uri)
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(uri, DataURIPrefix))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.hgt {
				t.Fatalf("thumbnail %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.w, tc.hgt)
			}
			if r, _, _, _ := img.At(0, 0).RGBA(); r != 0 {
				t.Errorf("left pixel red %d, want 0 (black)", r)
			}
			if r, _, _, _ := img.At(tc.w-1, 0).RGBA(); r != 0xffff {
				t.Errorf("right pixel red %d, want 0xffff (white)", r)
			}
			again, err := s.Thumbnail(h, tc.size)
			if err != nil || again != uri {
				t.Errorf("a second thumbnail differs (%v)", err)
			}
		})
	}
}

func TestDownscaleAverages(t *testing.T) {
	t.Parallel()
	// 4×1 grey ramp 0, 100, 200, 255 to 2×1: means 50 and 227.5 → 228.
	src := image.NewGray(image.Rect(0, 0, 4, 1))
	copy(src.Pix, []uint8{0, 100, 200, 255})
	got := Downscale(src, 2).(*image.RGBA)
	if got.Bounds().Dx() != 2 || got.Bounds().Dy() != 1 {
		t.Fatalf("bounds %v", got.Bounds())
	}
	if got.Pix[0] != 50 || got.Pix[4] != 228 || got.Pix[3] != 255 {
		t.Errorf("pixels %v, want R 50 and 228, opaque", got.Pix)
	}
}

func TestThumbnailErrors(t *testing.T) {
	t.Parallel()
	s := Store{Dir: t.TempDir()}
	notPNG, err := s.Put([]byte("not a png"))
	if err != nil {
		t.Fatal(err)
	}
	missing := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, hash string
		notExist   bool
	}{
		{"not a hash", "../../etc/passwd", false},
		{"pruned", missing, true},
		{"not a PNG", notPNG, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Thumbnail(tc.hash, 48)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, fs.ErrNotExist) != tc.notExist {
				t.Errorf("errors.Is(ErrNotExist) = %v, want %v: %v", !tc.notExist, tc.notExist, err)
			}
		})
	}
}
