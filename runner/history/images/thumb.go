package images

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"os"
)

// DataURIPrefix starts every thumbnail Thumbnail returns.
const DataURIPrefix = "data:image/png;base64,"

// Thumbnail reads the kept image with this hash and returns it as a PNG
// data URI, downscaled (a box filter in integer arithmetic, so the same
// image gives the same bytes) until its longer side is at most size
// pixels; a smaller image is kept as it is, never upscaled. An image that
// is not kept (pruned) is an error wrapping fs.ErrNotExist.
func (s Store) Thumbnail(hash string, size int) (string, error) {
	if b, err := hex.DecodeString(hash); err != nil || len(b) != 32 {
		return "", fmt.Errorf("thumbnail %q: not an image hash", hash)
	}
	if size < 1 {
		return "", fmt.Errorf("thumbnail %s: size %d < 1", hash, size)
	}
	f, err := os.Open(s.Path(hash))
	if err != nil {
		return "", fmt.Errorf("thumbnail: %w", err)
	}
	defer f.Close()
	src, err := png.Decode(f)
	if err != nil {
		return "", fmt.Errorf("thumbnail %s: decode: %w", hash, err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, Downscale(src, size)); err != nil {
		return "", fmt.Errorf("thumbnail %s: encode: %w", hash, err)
	}
	return DataURIPrefix + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Downscale returns src shrunk so that its longer side is at most size
// pixels, each pixel the mean of the source pixels it covers (alpha-
// premultiplied, rounded half up). src is returned as it is when it
// already fits.
func Downscale(src image.Image, size int) image.Image {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= size && sh <= size {
		return src
	}
	dw, dh := size, size
	if sw >= sh {
		dh = max(1, (sh*size+sw/2)/sw)
	} else {
		dw = max(1, (sw*size+sh/2)/sh)
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		y0, y1 := b.Min.Y+y*sh/dh, b.Min.Y+(y+1)*sh/dh
		for x := 0; x < dw; x++ {
			x0, x1 := b.Min.X+x*sw/dw, b.Min.X+(x+1)*sw/dw
			var r, g, bl, a, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca)
					n++
				}
			}
			// 16-bit sums to 8 bits: divide by n·257, rounding half up.
			d := n * 257
			i := dst.PixOffset(x, y)
			dst.Pix[i+0] = uint8((r + d/2) / d)
			dst.Pix[i+1] = uint8((g + d/2) / d)
			dst.Pix[i+2] = uint8((bl + d/2) / d)
			dst.Pix[i+3] = uint8((a + d/2) / d)
		}
	}
	return dst
}
