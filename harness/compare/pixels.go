package compare

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"image"
	"image/color"
)

// toNRGBA normalises any image to 8-bit non-premultiplied RGBA with its
// origin at (0, 0). 16-bit images keep their high byte; paletted, grey and
// YCbCr images are expanded. An *image.NRGBA already at the origin with a
// tight stride is returned as is, and so are the pixels of an opaque
// *image.RGBA (shared, not copied): callers only read them.
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) && n.Stride == 4*w {
		return n
	}
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) && r.Stride == 4*w && opaque(r.Pix[:4*w*h]) {
		// Premultiplied and straight alpha are the same bytes when every
		// pixel is opaque: what image/png gives for an RGB file. No copy.
		return &image.NRGBA{Pix: r.Pix[:4*w*h], Stride: r.Stride, Rect: r.Rect}
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	switch src := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			copy(out.Pix[y*out.Stride:y*out.Stride+4*w], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			d := out.Pix[y*out.Stride : y*out.Stride+4*w]
			for x := 0; x < 4*w; x += 4 {
				r, g, bl, a := s[x], s[x+1], s[x+2], s[x+3]
				if a != 0xff && a != 0 {
					c := color.NRGBAModel.Convert(color.RGBA{r, g, bl, a}).(color.NRGBA)
					r, g, bl = c.R, c.G, c.B
				} else if a == 0 {
					r, g, bl = 0, 0, 0
				}
				d[x], d[x+1], d[x+2], d[x+3] = r, g, bl, a
			}
		}
	case *image.NRGBA64:
		// 16-bit straight alpha: keep the high byte of each sample.
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			d := out.Pix[y*out.Stride : y*out.Stride+4*w]
			for x := range d {
				d[x] = s[2*x]
			}
		}
	default:
		for y := 0; y < h; y++ {
			d := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = c.R, c.G, c.B, c.A
			}
		}
	}
	return out
}

// pixelSHA256 is the hex SHA-256 of the tightly packed NRGBA pixel bytes.
func pixelSHA256(img *image.NRGBA) string {
	sum := sha256.Sum256(img.Pix[:4*img.Rect.Dx()*img.Rect.Dy()])
	return hex.EncodeToString(sum[:])
}

// pixelHasher takes pixelSHA256 of an image in steps (hashStep bytes
// each), which can stop and go on later: the sum is the same however the
// bytes were split.
type pixelHasher struct {
	pix  []byte // the tightly packed NRGBA pixel bytes
	h    hash.Hash
	done int // bytes of pix hashed
}

// hashStep is the bytes a pixelHasher hashes between two looks at its
// stop channel: ≈ 0.15 ms.
const hashStep = 256 << 10

func newPixelHasher(img *image.NRGBA) *pixelHasher {
	return &pixelHasher{pix: img.Pix[:4*img.Rect.Dx()*img.Rect.Dy()], h: sha256.New()}
}

// until hashes until every byte is hashed or stop is closed.
func (p *pixelHasher) until(stop <-chan struct{}) {
	for p.done < len(p.pix) {
		select {
		case <-stop:
			return
		default:
		}
		n := min(len(p.pix)-p.done, hashStep)
		p.h.Write(p.pix[p.done : p.done+n])
		p.done += n
	}
}

// sum hashes the bytes not yet hashed and returns the hex SHA-256 of all.
func (p *pixelHasher) sum() string {
	p.h.Write(p.pix[p.done:])
	p.done = len(p.pix)
	return hex.EncodeToString(p.h.Sum(nil))
}

// opaque reports whether every alpha byte of the RGBA bytes pix is 0xff.
func opaque(pix []byte) bool {
	for i := 3; i < len(pix); i += 4 {
		if pix[i] != 0xff {
			return false
		}
	}
	return true
}
