package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"

	"golang.org/x/image/webp"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/pngmeta"
)

// DecodeFile reads an image file as LoadImage does and returns its
// IMAGE [N, H, W, 3] and MASK [N, H, W].
//
// Formats: PNG (8- and 16-bit; 16-bit samples scale by 1/65535), JPEG (EXIF
// orientation applied), GIF (every frame, composited on the logical
// screen), WebP (still). Frames whose size differs from the first frame are
// skipped. MASK is 1 − alpha where the file has an alpha channel (PNG
// colour types 4 and 6, a palette with tRNS, a GIF with a transparent
// index, a WebP with transparent pixels), else zeros of 64×64 per frame, as
// ComfyUI.
func DecodeFile(path string) (*node.Image, *node.Mask, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load image: %w", err)
	}
	img, mask, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("load image %s: %w", path, err)
	}
	return img, mask, nil
}

// decodedFrame is one decoded frame before batching.
type decodedFrame struct {
	pix   []float32 // H·W·3
	alpha []float32 // H·W, nil when the frame has no alpha channel
	w, h  int
}

// decode sniffs the format from the magic bytes and decodes.
func decode(data []byte) (*node.Image, *node.Mask, error) {
	var frames []decodedFrame
	switch {
	case bytes.HasPrefix(data, []byte(pngmeta.Signature)):
		m, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("decode png: %w", err)
		}
		hasAlpha, orient := pngAlphaAndOrientation(data)
		f := frameOf(m, hasAlpha)
		frames = append(frames, orientFrame(f, orient))
	case bytes.HasPrefix(data, []byte{0xff, 0xd8}):
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("decode jpeg: %w", err)
		}
		frames = append(frames, orientFrame(frameOf(m, false), jpegOrientation(data)))
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		g, err := gif.DecodeAll(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("decode gif: %w", err)
		}
		frames = gifFrames(g)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		m, err := webp.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("decode webp: %w", err)
		}
		frames = append(frames, frameOf(m, hasTransparency(m)))
	default:
		return nil, nil, fmt.Errorf("decode image: unknown format (want PNG, JPEG, GIF or WebP)")
	}
	return batchFrames(frames)
}

// batchFrames stacks the frames that have the first frame's size.
func batchFrames(frames []decodedFrame) (*node.Image, *node.Mask, error) {
	if len(frames) == 0 {
		return nil, nil, fmt.Errorf("decode image: no frames")
	}
	w, h := frames[0].w, frames[0].h
	var keep []decodedFrame
	for _, f := range frames {
		if f.w == w && f.h == h {
			keep = append(keep, f)
		}
	}
	img := &node.Image{N: len(keep), H: h, W: w, C: 3, Pix: make([]float32, 0, len(keep)*h*w*3)}
	mh, mw := 64, 64
	if keep[0].alpha != nil {
		mh, mw = h, w
	}
	mask := &node.Mask{N: len(keep), H: mh, W: mw, Pix: make([]float32, len(keep)*mh*mw)}
	for i, f := range keep {
		img.Pix = append(img.Pix, f.pix...)
		if f.alpha == nil {
			continue // zeros
		}
		if mh != f.h || mw != f.w {
			return nil, nil, fmt.Errorf("decode image: frames mix alpha and no alpha")
		}
		dst := mask.Pix[i*mh*mw : (i+1)*mh*mw]
		for j, a := range f.alpha {
			dst[j] = 1 - a
		}
	}
	return img, mask, nil
}

// frameOf converts a decoded image to float32 RGB (and alpha when
// withAlpha), 8-bit sources as v/255 and 16-bit ones as v/65535, with
// straight (not premultiplied) colour as Pillow's convert("RGB").
func frameOf(m image.Image, withAlpha bool) decodedFrame {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	f := decodedFrame{pix: make([]float32, w*h*3), w: w, h: h}
	if withAlpha {
		f.alpha = make([]float32, w*h)
	}
	set8 := func(i int, r, g, bl, a uint8) {
		f.pix[3*i], f.pix[3*i+1], f.pix[3*i+2] = float32(r)/255, float32(g)/255, float32(bl)/255
		if f.alpha != nil {
			f.alpha[i] = float32(a) / 255
		}
	}
	switch src := m.(type) {
	case *image.NRGBA:
		for y := range h {
			row := src.Pix[y*src.Stride:]
			for x := range w {
				p := row[4*x : 4*x+4]
				set8(y*w+x, p[0], p[1], p[2], p[3])
			}
		}
		return f
	case *image.Paletted:
		pal := make([]color.NRGBA, len(src.Palette))
		for i, c := range src.Palette {
			pal[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
		}
		for y := range h {
			row := src.Pix[y*src.Stride:]
			for x := range w {
				var c color.NRGBA
				if int(row[x]) < len(pal) {
					c = pal[row[x]]
				}
				set8(y*w+x, c.R, c.G, c.B, c.A)
			}
		}
		return f
	case *image.RGBA: // opaque PNGs (colour type 2) decode to RGBA with A = 255
		for y := range h {
			row := src.Pix[y*src.Stride:]
			for x := range w {
				p := row[4*x : 4*x+4]
				if p[3] != 0xff {
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					set8(y*w+x, c.R, c.G, c.B, c.A)
					continue
				}
				set8(y*w+x, p[0], p[1], p[2], 0xff)
			}
		}
		return f
	case *image.YCbCr: // JPEG
		for y := range h {
			for x := range w {
				yi, ci := src.YOffset(b.Min.X+x, b.Min.Y+y), src.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				set8(y*w+x, r, g, bl, 0xff)
			}
		}
		return f
	}
	deep := false
	switch m.(type) {
	case *image.NRGBA64, *image.RGBA64, *image.Gray16:
		deep = true
	}
	for y := range h {
		for x := range w {
			c := color.NRGBA64Model.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			i := y*w + x
			if deep {
				f.pix[3*i], f.pix[3*i+1], f.pix[3*i+2] = float32(c.R)/65535, float32(c.G)/65535, float32(c.B)/65535
				if f.alpha != nil {
					f.alpha[i] = float32(c.A) / 65535
				}
				continue
			}
			set8(i, uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8), uint8(c.A>>8))
		}
	}
	return f
}

// hasTransparency reports whether any pixel is not opaque.
func hasTransparency(m image.Image) bool {
	if o, ok := m.(interface{ Opaque() bool }); ok {
		return !o.Opaque()
	}
	return true
}

// pngAlphaAndOrientation reads what image/png does not expose: whether
// Pillow would see an alpha band (colour type 4/6, or a palette with a
// tRNS chunk) and the EXIF orientation of an eXIf chunk (1 if none).
func pngAlphaAndOrientation(data []byte) (bool, int) {
	chunks, err := pngmeta.ReadChunks(bytes.NewReader(data), func(t string) bool { return t == "IHDR" || t == "eXIf" })
	if err != nil || len(chunks) == 0 || chunks[0].Type != "IHDR" || len(chunks[0].Data) < 13 {
		return false, 1
	}
	ct := chunks[0].Data[9]
	alpha, orient := ct == 4 || ct == 6, 1
	for _, c := range chunks {
		switch c.Type {
		case "tRNS":
			alpha = alpha || ct == 3
		case "eXIf":
			orient = exifOrientation(c.Data)
		}
	}
	return alpha, orient
}

// gifFrames composites the frames of an animated GIF onto its logical
// screen, honouring disposal methods, as Pillow's GIF reader yields them.
func gifFrames(g *gif.GIF) []decodedFrame {
	w, h := g.Config.Width, g.Config.Height
	if w == 0 || h == 0 {
		for _, p := range g.Image {
			w, h = max(w, p.Bounds().Max.X), max(h, p.Bounds().Max.Y)
		}
	}
	transparent := false
	for _, p := range g.Image {
		for _, c := range p.Palette {
			if _, _, _, a := c.RGBA(); a != 0xffff {
				transparent = true
			}
		}
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	frames := make([]decodedFrame, 0, len(g.Image))
	for i, p := range g.Image {
		var saved *image.NRGBA
		disposal := byte(0)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		if disposal == gif.DisposalPrevious {
			saved = image.NewNRGBA(canvas.Bounds())
			copy(saved.Pix, canvas.Pix)
		}
		draw.Draw(canvas, p.Bounds(), p, p.Bounds().Min, draw.Over)
		frames = append(frames, frameOf(canvas, transparent))
		switch disposal {
		case gif.DisposalBackground:
			draw.Draw(canvas, p.Bounds(), image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas = saved
		}
	}
	return frames
}

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG stream, 1
// when it has none.
func jpegOrientation(data []byte) int {
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return 1
		}
		marker := data[i+1]
		if marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01 {
			i += 2
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads tag 0x0112 of IFD0 from a TIFF-structured EXIF
// block; 1 when absent or malformed.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:8]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for k := range n {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if typ := bo.Uint16(t[e+2:]); typ != 3 { // SHORT
			return 1
		}
		if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}

// orientFrame applies an EXIF orientation as Pillow's exif_transpose: 2 flip
// left-right, 3 rotate 180, 4 flip top-bottom, 5 transpose, 6 rotate 90°
// clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
func orientFrame(f decodedFrame, o int) decodedFrame {
	if o <= 1 || o > 8 {
		return f
	}
	w, h := f.w, f.h
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	src := func(x, y int) (int, int) { // output (x, y) → input column, row
		switch o {
		case 2:
			return w - 1 - x, y
		case 3:
			return w - 1 - x, h - 1 - y
		case 4:
			return x, h - 1 - y
		case 5:
			return y, x
		case 6:
			return y, h - 1 - x
		case 7:
			return w - 1 - y, h - 1 - x
		default: // 8
			return w - 1 - y, x
		}
	}
	out := decodedFrame{pix: make([]float32, len(f.pix)), w: ow, h: oh}
	if f.alpha != nil {
		out.alpha = make([]float32, len(f.alpha))
	}
	for y := range oh {
		for x := range ow {
			sx, sy := src(x, y)
			s, d := sy*w+sx, y*ow+x
			copy(out.pix[3*d:3*d+3], f.pix[3*s:3*s+3])
			if f.alpha != nil {
				out.alpha[d] = f.alpha[s]
			}
		}
	}
	return out
}
