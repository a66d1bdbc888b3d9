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
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
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
	img, z, rowBytes, channels, err := parse(data)
	if err != nil {
		return nil, err
	}
	h := img.Rect.Dy()
	raw := make([]byte, h*(1+rowBytes))
	if err := inflate(raw, z); err != nil {
		return nil, err
	}
	if err := unfilterRows(img, raw, rowBytes, channels); err != nil {
		return nil, err
	}
	return img, nil
}

// parse reads the chunks of data: the image to decode into (allocated
// once the data are known to be able to fill it), its zlib stream, the
// bytes of a row and the channels of a pixel.
func parse(data []byte) (img *image.NRGBA, z []byte, rowBytes, channels int, err error) {
	if len(data) < len(signature) || string(data[:len(signature)]) != signature {
		return nil, nil, 0, 0, errors.New("decode png: not a PNG file")
	}
	var (
		w, h      int
		idat      [][]byte
		idatBytes int
		seenIHDR  bool
		idatDone  bool // a chunk other than IDAT followed the IDAT run
		seenIEND  bool
	)
	rest := data[len(signature):]
	for !seenIEND {
		if len(rest) < 12 {
			return nil, nil, 0, 0, errors.New("decode png: truncated chunk")
		}
		n := binary.BigEndian.Uint32(rest)
		if n > 0x7fffffff || int64(n) > int64(len(rest)-12) {
			return nil, nil, 0, 0, fmt.Errorf("decode png: chunk length %d past the end of the file", n)
		}
		typ, body := string(rest[4:8]), rest[8:8+n]
		if binary.BigEndian.Uint32(rest[8+n:]) != crc32.ChecksumIEEE(rest[4:8+n]) {
			return nil, nil, 0, 0, fmt.Errorf("decode png: chunk %q: invalid checksum", typ)
		}
		rest = rest[12+n:]
		if !seenIHDR && typ != "IHDR" {
			return nil, nil, 0, 0, fmt.Errorf("decode png: chunk %q before IHDR", typ)
		}
		switch typ {
		case "IHDR":
			if seenIHDR {
				return nil, nil, 0, 0, errors.New("decode png: second IHDR")
			}
			seenIHDR = true
			var err error
			if w, h, channels, err = header(body); err != nil {
				return nil, nil, 0, 0, err
			}
		case "IDAT":
			if idatDone {
				return nil, nil, 0, 0, errors.New("decode png: IDAT chunks not consecutive")
			}
			idat = append(idat, body)
			idatBytes += len(body)
		case "IEND":
			if len(idat) == 0 {
				return nil, nil, 0, 0, errors.New("decode png: IEND before IDAT")
			}
			if n != 0 {
				return nil, nil, 0, 0, errors.New("decode png: IEND not empty")
			}
			seenIEND = true
		case "PLTE", "tRNS":
			return nil, nil, 0, 0, fmt.Errorf("%w: %s chunk", ErrUnsupported, typ)
		default:
			if typ[0]&0x20 == 0 { // an unknown critical chunk
				return nil, nil, 0, 0, fmt.Errorf("%w: %s chunk", ErrUnsupported, typ)
			}
			if len(idat) > 0 {
				idatDone = true
			}
		}
	}
	rowBytes = channels * w
	raw := int64(h) * int64(1+rowBytes)
	if raw > maxInflate*int64(idatBytes)+1024 {
		return nil, nil, 0, 0, fmt.Errorf("%w: %d×%d needs %d bytes from %d of compressed data", ErrTooLarge, w, h, raw, idatBytes)
	}
	z = idat[0]
	if len(idat) > 1 {
		z = bytes.Join(idat, nil)
	}
	return image.NewNRGBA(image.Rect(0, 0, w, h)), z, rowBytes, channels, nil
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
// rowBytes bytes) and stores them in img as NRGBA. RGBA rows are copied
// to img and unfiltered there; the other layouts are unfiltered in raw,
// then expanded.
func unfilterRows(img *image.NRGBA, raw []byte, rowBytes, channels int) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	prev := make([]byte, rowBytes) // the zero row above the first
	for y := range h {
		out := img.Pix[y*img.Stride : y*img.Stride+4*w]
		row := raw[y*(1+rowBytes) : (y+1)*(1+rowBytes)]
		ft, cur := row[0], row[1:]
		if channels == 4 {
			copy(out, cur)
			cur = out
		}
		if err := unfilter(ft, cur, prev, channels); err != nil {
			return err
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
		prev = cur
	}
	return nil
}
