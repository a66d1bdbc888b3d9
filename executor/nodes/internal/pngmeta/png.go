package pngmeta

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/regen-dev/regen/internal/pngtext"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"unicode/utf8"

	"github.com/regen-dev/regen/executor/node"
)

// Signature starts every PNG file.
const Signature = "\x89PNG\r\n\x1a\n"

// maxChunk bounds the chunks ReadChunks is willing to buffer.
const maxChunk = 1 << 28

// Encode encodes sample index of the batch img as a PNG, with one tEXt
// chunk per entry of text (in order) placed right after IHDR.
//
// Pixels are converted as ComfyUI's SaveImage does: uint8(clip(255·x, 0,
// 255)), a truncation, not a rounding (0.999 → 254, 1.0 → 255, NaN → 0).
// C = 3 writes RGB, C = 4 RGBA, C = 1 grey. Each text Value is written
// verbatim as the chunk's text: it must be Latin-1 (SaveImage passes
// ASCII-escaped JSON); keys must be 1–79 Latin-1 characters without NUL.
// The output is a pure function of the arguments: Go's encoder and
// compress/flate are deterministic for a fixed level.
func Encode(img *node.Image, index int, text []node.KV, level png.CompressionLevel) ([]byte, error) {
	m, err := imageOf(img, index)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: level}
	if err := enc.Encode(&buf, m); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	if len(text) == 0 {
		return buf.Bytes(), nil
	}
	return insertText(buf.Bytes(), text)
}

// imageOf converts one batch sample to an 8-bit Go image.
func imageOf(img *node.Image, index int) (image.Image, error) {
	if img == nil {
		return nil, fmt.Errorf("encode png: nil image")
	}
	if index < 0 || index >= img.N {
		return nil, fmt.Errorf("encode png: sample %d out of range [0, %d)", index, img.N)
	}
	if img.W <= 0 || img.H <= 0 {
		return nil, fmt.Errorf("encode png: empty image %dx%d", img.W, img.H)
	}
	if len(img.Pix) != img.N*img.H*img.W*img.C {
		return nil, fmt.Errorf("encode png: %d values for shape [%d %d %d %d]", len(img.Pix), img.N, img.H, img.W, img.C)
	}
	n := img.W * img.H
	src := img.Pix[index*n*img.C : (index+1)*n*img.C]
	r := image.Rect(0, 0, img.W, img.H)
	switch img.C {
	case 1:
		g := image.NewGray(r)
		for i := range n {
			g.Pix[i] = Byte(src[i])
		}
		return g, nil
	case 3:
		m := image.NewRGBA(r) // opaque: Go writes colour type 2 (RGB)
		for i := range n {
			m.Pix[4*i] = Byte(src[3*i])
			m.Pix[4*i+1] = Byte(src[3*i+1])
			m.Pix[4*i+2] = Byte(src[3*i+2])
			m.Pix[4*i+3] = 0xff
		}
		return m, nil
	case 4:
		m := image.NewNRGBA(r)
		for i := range 4 * n {
			m.Pix[i] = Byte(src[i])
		}
		return m, nil
	default:
		return nil, fmt.Errorf("encode png: %d channels, want 1, 3 or 4", img.C)
	}
}

// Byte is numpy's clip(255·x, 0, 255).astype(uint8): multiply in
// float32, clamp, truncate. NaN maps to 0.
func Byte(x float32) uint8 {
	v := float32(255) * x
	if !(v > 0) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}

// insertText inserts tEXt chunks after the IHDR chunk of a PNG stream.
func insertText(data []byte, text []node.KV) ([]byte, error) {
	const ihdrEnd = len(Signature) + 8 + 13 + 4
	if len(data) < ihdrEnd || string(data[:len(Signature)]) != Signature || string(data[12:16]) != "IHDR" {
		return nil, fmt.Errorf("insert png text: stream does not start with IHDR")
	}
	var out bytes.Buffer
	out.Grow(len(data) + 256)
	out.Write(data[:ihdrEnd])
	for _, kv := range text {
		payload, err := textPayload(kv)
		if err != nil {
			return nil, err
		}
		WriteChunk(&out, "tEXt", payload)
	}
	out.Write(data[ihdrEnd:])
	return out.Bytes(), nil
}

// textPayload builds keyword NUL text, both Latin-1.
func textPayload(kv node.KV) ([]byte, error) {
	key, err := latin1(kv.Key)
	if err != nil {
		return nil, fmt.Errorf("write png text key %q: %w", kv.Key, err)
	}
	if len(key) == 0 || len(key) > 79 || bytes.IndexByte(key, 0) >= 0 {
		return nil, fmt.Errorf("write png text key %q: must be 1-79 characters without NUL", kv.Key)
	}
	val, err := latin1(string(kv.Value))
	if err != nil {
		return nil, fmt.Errorf("write png text %q: %w", kv.Key, err)
	}
	if bytes.IndexByte(val, 0) >= 0 {
		return nil, fmt.Errorf("write png text %q: NUL in text", kv.Key)
	}
	p := make([]byte, 0, len(key)+1+len(val))
	p = append(p, key...)
	p = append(p, 0)
	return append(p, val...), nil
}

// latin1 encodes a UTF-8 string as Latin-1.
func latin1(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return nil, fmt.Errorf("invalid UTF-8 at byte %d", i)
			}
		}
		if r > 0xff {
			return nil, fmt.Errorf("character %q is not Latin-1", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// WriteChunk appends one chunk (length, type, data, CRC).
func WriteChunk(w *bytes.Buffer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	w.Write(hdr[:])
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	w.Write(sum[:])
}

// Chunk is one chunk of a PNG stream.
type Chunk struct {
	Type string
	Data []byte
}

// ReadChunks reads every chunk up to and including IEND, checking CRCs.
// If keep is non-nil only chunks for which keep returns true are buffered
// (the rest are skipped); the types of all chunks are still returned.
func ReadChunks(r io.Reader, keep func(typ string) bool) ([]Chunk, error) {
	br := bufio.NewReader(r)
	sig := make([]byte, len(Signature))
	if _, err := io.ReadFull(br, sig); err != nil {
		return nil, fmt.Errorf("read png signature: %w", err)
	}
	if string(sig) != Signature {
		return nil, fmt.Errorf("read png: not a PNG file")
	}
	var chunks []Chunk
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return nil, fmt.Errorf("read png chunk header: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		typ := string(hdr[4:8])
		if n > maxChunk {
			return nil, fmt.Errorf("read png chunk %s: length %d too large", typ, n)
		}
		c := Chunk{Type: typ}
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:8])
		if keep == nil || keep(typ) {
			c.Data = make([]byte, n)
			if _, err := io.ReadFull(br, c.Data); err != nil {
				return nil, fmt.Errorf("read png chunk %s: %w", typ, err)
			}
			crc.Write(c.Data)
		} else if _, err := io.CopyN(crc, br, int64(n)); err != nil {
			return nil, fmt.Errorf("read png chunk %s: %w", typ, err)
		}
		var sum [4]byte
		if _, err := io.ReadFull(br, sum[:]); err != nil {
			return nil, fmt.Errorf("read png chunk %s crc: %w", typ, err)
		}
		if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
			return nil, fmt.Errorf("read png chunk %s: crc mismatch", typ)
		}
		chunks = append(chunks, c)
		if typ == "IEND" {
			return chunks, nil
		}
	}
}

// ReadText returns the text chunks of a PNG stream in file order: tEXt,
// zTXt and iTXt, each as Key and the text (converted to UTF-8) as Value,
// through the module's one PNG text reader (internal/pngtext): chunk CRCs
// are verified, and a text chunk that does not decode is an error.
func ReadText(r io.Reader) ([]node.KV, error) {
	chunks, err := pngtext.Read(r)
	if err != nil {
		return nil, err
	}
	out := make([]node.KV, len(chunks))
	for i, c := range chunks {
		out[i] = node.KV{Key: c.Keyword, Value: []byte(c.Text)}
	}
	return out, nil
}
