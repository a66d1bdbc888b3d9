// Package pngdecode implements a fast PNG decoder for the files regen
// compares: 8-bit grey, grey+alpha, RGB and RGBA, not interlaced, without
// tRNS or PLTE. It decodes straight into the comparator's pixel layout, an
// *image.NRGBA at the origin with a tight stride, with the very bytes that
// image/png's image converted to 8-bit NRGBA has.
//
// It is an accelerator, not a judge of validity: it is stricter than
// image/png (a zlib stream must end exactly at the end of the image data,
// every chunk before IEND must be well formed, IHDR must come first), and
// a caller falls back to image/png on any error but ErrTooLarge, so that a
// file image/png accepts is never refused. Every other layout gives
// ErrUnsupported.
//
// Rows are unfiltered by vector kernels on amd64 (SSSE3, and AVX2 where
// the CPU has it: unfilter_amd64.s) and by the pure-Go path everywhere
// else and with -tags purego; the tests hold every kernel set to the
// pure-Go bytes and both to the PNG specification's.
package pngdecode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"

	"github.com/regen-dev/regen/harness/compare/internal/hugepage"
)

// ErrUnsupported is returned for a PNG that is valid or may be, but
// outside the layouts this package decodes: decode it with image/png.
var ErrUnsupported = errors.New("png layout not handled by the fast decoder")

// ErrTooLarge is returned when the image data are too short by far for
// the image's dimensions: even at deflate's largest expansion they could
// not fill it, so image/png would fail too, after allocating the whole
// image. Decode refuses before allocating anything.
var ErrTooLarge = errors.New("png image data too short for its dimensions")

// maxInflate bounds deflate's expansion: a length code of 258 bytes and
// a distance code cost two bits at best, 1032 bytes per input byte; the
// rest covers block headers.
const maxInflate = 1040

const signature = "\x89PNG\r\n\x1a\n"

// Colour types of IHDR.
const (
	ctGray      = 0
	ctRGB       = 2
	ctGrayAlpha = 4
	ctRGBA      = 6
)

// Decode decodes the PNG file data.
func Decode(data []byte) (*image.NRGBA, error) {
	l, idat, err := parse(data)
	if err != nil {
		return nil, err
	}
	z := idat[0]
	extra := 0
	if len(idat) > 1 {
		for _, c := range idat {
			extra += len(c)
		}
	}
	img, raw, zbuf := l.alloc(extra)
	if extra > 0 {
		// The chunks joined into one stream, in the image's allocation:
		// on its huge pages rather than on fresh 4 KiB ones.
		z = zbuf[:0]
		for _, c := range idat {
			z = append(z, c...)
		}
	}
	want, err := inflate(raw, z)
	if err != nil {
		return nil, err
	}
	sum, err := unfilterRows(img, raw, l)
	if err != nil {
		return nil, err
	}
	if sum != want {
		return nil, errors.New("decode png: end of image data: zlib: invalid checksum")
	}
	return img, nil
}

// layout is what IHDR says of the image data: w×h pixels of channels
// bytes, rows of rowBytes bytes after their filter type byte.
type layout struct{ w, h, channels, rowBytes int }

// alloc allocates the image and, in the same memory, the buffer of its
// image data (each row its filter type byte and rowBytes bytes): at the
// end of the pixels for 1 to 3 channels (3w+1 ≤ 4w bytes a row), past
// them by h bytes for RGBA. Either way row y of the data starts at or
// after row y of the pixels and row y+1 at or after its end, so that
// unfilterRows can store each row over the data it has read. One
// allocation, not two: in a short-lived process each page touched is a
// page fault. A large one is on huge pages (hugepage.Make): a 1024² image
// is then 3 page faults instead of 1 025.
//
// extra bytes more, after them, are for the joined zlib stream (zbuf).
func (l layout) alloc(extra int) (img *image.NRGBA, raw, zbuf []byte) {
	n := 4 * l.w * l.h
	rawLen := l.h * (1 + l.rowBytes)
	size := max(n, rawLen)
	buf := hugepage.Make[byte](size + extra)
	img = &image.NRGBA{Pix: buf[:n:n], Stride: 4 * l.w, Rect: image.Rect(0, 0, l.w, l.h)}
	return img, buf[size-rawLen : size : size], buf[size:]
}

// parse reads the chunks of data: the image's layout and its IDAT chunks'
// data (the zlib stream, once joined), checked to be able to fill it.
func parse(data []byte) (l layout, idat [][]byte, err error) {
	if len(data) < len(signature) || string(data[:len(signature)]) != signature {
		return layout{}, nil, errors.New("decode png: not a PNG file")
	}
	var (
		w, h, channels int
		idatBytes      int
		seenIHDR       bool
		idatDone       bool // a chunk other than IDAT followed the IDAT run
		seenIEND       bool
	)
	rest := data[len(signature):]
	for !seenIEND {
		if len(rest) < 12 {
			return layout{}, nil, errors.New("decode png: truncated chunk")
		}
		n := binary.BigEndian.Uint32(rest)
		if n > 0x7fffffff || int64(n) > int64(len(rest)-12) {
			return layout{}, nil, fmt.Errorf("decode png: chunk length %d past the end of the file", n)
		}
		typ, body := string(rest[4:8]), rest[8:8+n]
		if binary.BigEndian.Uint32(rest[8+n:]) != crc32.ChecksumIEEE(rest[4:8+n]) {
			return layout{}, nil, fmt.Errorf("decode png: chunk %q: invalid checksum", typ)
		}
		rest = rest[12+n:]
		if !seenIHDR && typ != "IHDR" {
			return layout{}, nil, fmt.Errorf("decode png: chunk %q before IHDR", typ)
		}
		switch typ {
		case "IHDR":
			if seenIHDR {
				return layout{}, nil, errors.New("decode png: second IHDR")
			}
			seenIHDR = true
			var err error
			if w, h, channels, err = header(body); err != nil {
				return layout{}, nil, err
			}
		case "IDAT":
			if idatDone {
				return layout{}, nil, errors.New("decode png: IDAT chunks not consecutive")
			}
			idat = append(idat, body)
			idatBytes += len(body)
		case "IEND":
			if len(idat) == 0 {
				return layout{}, nil, errors.New("decode png: IEND before IDAT")
			}
			if n != 0 {
				return layout{}, nil, errors.New("decode png: IEND not empty")
			}
			seenIEND = true
		case "PLTE", "tRNS":
			return layout{}, nil, fmt.Errorf("%w: %s chunk", ErrUnsupported, typ)
		default:
			if typ[0]&0x20 == 0 { // an unknown critical chunk
				return layout{}, nil, fmt.Errorf("%w: %s chunk", ErrUnsupported, typ)
			}
			if len(idat) > 0 {
				idatDone = true
			}
		}
	}
	rowBytes := channels * w
	raw := int64(h) * int64(1+rowBytes)
	if raw > maxInflate*int64(idatBytes)+1024 {
		return layout{}, nil, fmt.Errorf("%w: %d×%d needs %d bytes from %d of compressed data", ErrTooLarge, w, h, raw, idatBytes)
	}
	return layout{w: w, h: h, channels: channels, rowBytes: rowBytes}, idat, nil
}

// header reads IHDR: width, height and channels per pixel.
func header(b []byte) (w, h, channels int, err error) {
	if len(b) != 13 {
		return 0, 0, 0, errors.New("decode png: bad IHDR length")
	}
	w32, h32 := binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:])
	if w32 == 0 || h32 == 0 || w32 > 0x7fffffff || h32 > 0x7fffffff {
		return 0, 0, 0, fmt.Errorf("decode png: bad dimensions %d×%d", w32, h32)
	}
	depth, ct, comp, filter, interlace := b[8], b[9], b[10], b[11], b[12]
	if comp != 0 || filter != 0 || interlace > 1 {
		return 0, 0, 0, fmt.Errorf("decode png: bad IHDR (compression %d, filter %d, interlace %d)", comp, filter, interlace)
	}
	switch ct {
	case ctGray:
		channels = 1
	case ctRGB:
		channels = 3
	case ctGrayAlpha:
		channels = 2
	case ctRGBA:
		channels = 4
	}
	if depth != 8 || channels == 0 || interlace != 0 {
		return 0, 0, 0, fmt.Errorf("%w: bit depth %d, colour type %d, interlace %d", ErrUnsupported, depth, ct, interlace)
	}
	// The NRGBA image must be addressable: 4·w·h bytes in an int.
	if int64(w32)*int64(h32) > (int64(^uint(0)>>1))/4 {
		return 0, 0, 0, fmt.Errorf("%w: %d×%d", ErrTooLarge, w32, h32)
	}
	return int(w32), int(h32), channels, nil
}

// Filter types of a row.
const (
	ftNone = iota
	ftSub
	ftUp
	ftAverage
	ftPaeth
)

// unfilterRows unfilters the rows of raw (each a filter type byte and
// rowBytes bytes, laid out in img's memory by alloc) and stores them in
// img as NRGBA; it returns the Adler-32 of raw, summed row by row before
// each is overwritten. An RGBA row is moved to its place in img and
// unfiltered there; the other layouts are copied to a row buffer,
// unfiltered there, then expanded.
func unfilterRows(img *image.NRGBA, raw []byte, l layout) (uint32, error) {
	w, rowBytes, channels := l.w, l.rowBytes, l.channels
	sum, summer := uint32(1), &adlerSummer{k: kernels}
	var cur, prev []byte
	if channels != 4 {
		cur, prev = make([]byte, rowBytes), make([]byte, rowBytes)
	} else {
		prev = make([]byte, rowBytes) // the zero row above the first
	}
	for y := range l.h {
		out := img.Pix[y*img.Stride : y*img.Stride+4*w]
		row := raw[y*(1+rowBytes) : (y+1)*(1+rowBytes)]
		sum = summer.update(sum, row)
		ft := row[0]
		if channels == 4 {
			cur = out
		}
		copy(cur, row[1:])
		if err := unfilter(ft, cur, prev, channels); err != nil {
			return 0, err
		}
		switch channels {
		case 1:
			for x, v := range cur {
				p := out[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2], p[3] = v, v, v, 0xff
			}
		case 2:
			for x := range w {
				v, a := cur[2*x], cur[2*x+1]
				p := out[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2], p[3] = v, v, v, a
			}
		case 3:
			expandRGB(out, cur)
		}
		if channels == 4 {
			prev = cur
		} else {
			cur, prev = prev, cur
		}
	}
	return sum, nil
}
