package pngdecode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
)

// zlibOpener opens a zlib stream: klauspost/compress's or the standard
// library's, for the benchmark that compares them with inflate.
type zlibOpener func(io.Reader) (io.ReadCloser, error)

// decodeStream is Decode with the image data read through a zlib stream
// decoder (a sliding window, its bytes copied out) instead of inflate.
func decodeStream(data []byte, open zlibOpener) (*image.NRGBA, error) {
	l, idat, err := parse(data)
	if err != nil {
		return nil, err
	}
	zr, err := open(bytes.NewReader(bytes.Join(idat, nil)))
	if err != nil {
		return nil, fmt.Errorf("decode png: read zlib header: %w", err)
	}
	img, raw, _ := l.alloc(0)
	if _, err := io.ReadFull(zr, raw); err != nil {
		return nil, fmt.Errorf("decode png: inflate image data: %w", err)
	}
	var one [1]byte
	if k, err := io.ReadFull(zr, one[:]); k != 0 || err != io.EOF {
		return nil, errors.New("decode png: end of image data")
	}
	// The stream decoder checked the Adler-32.
	if _, err := unfilterRows(img, raw, l); err != nil {
		return nil, err
	}
	return img, nil
}
