// Package pngtext reads the text metadata of PNG files: the tEXt, zTXt and
// iTXt chunks, where ComfyUI (and regen-executor) keep a generation's
// "prompt" and "workflow". It is the module's one PNG text-chunk reader,
// shared by the executor and the harness, and imports only the standard
// library.
//
// Read walks the chunks up to IEND, checking every CRC. A broken stream
// (not a PNG, truncated, a bad CRC, a chunk too large) is an error and
// nothing more is read. A text chunk that is intact but does not decode (no
// keyword separator, a bad zlib stream, an unknown compression method) is
// reported with an error wrapping ErrBadText after the rest of the file is
// read, with every chunk that did decode: a strict reader fails on it, a
// reader for whom metadata is advisory keeps what it got.
package pngtext

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Signature starts every PNG file.
const Signature = "\x89PNG\r\n\x1a\n"

const (
	// MaxChunk bounds the length of a chunk Read buffers.
	MaxChunk = 1 << 28
	// MaxText bounds a decompressed zTXt or iTXt text.
	MaxText = 64 << 20
)

var (
	// ErrNotPNG is returned when the stream lacks the PNG signature.
	ErrNotPNG = errors.New("not a PNG file")
	// ErrBadText is wrapped by the error for a text chunk that does not decode.
	ErrBadText = errors.New("bad text chunk")
)

// Chunk is one decoded text chunk.
type Chunk struct {
	Type    string // tEXt, zTXt or iTXt
	Keyword string
	Text    string // UTF-8
}

// Read returns the text chunks of the PNG stream r in file order.
func Read(r io.Reader) ([]Chunk, error) {
	br := bufio.NewReader(r)
	sig := make([]byte, len(Signature))
	if _, err := io.ReadFull(br, sig); err != nil {
		return nil, fmt.Errorf("read png signature: %w", err)
	}
	if string(sig) != Signature {
		return nil, fmt.Errorf("read png: %w", ErrNotPNG)
	}
	var (
		out []Chunk
		bad []error
		hdr [8]byte
	)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return out, fmt.Errorf("read png chunk header: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		typ := string(hdr[4:8])
		if n > MaxChunk {
			return out, fmt.Errorf("read png chunk %s: length %d too large", typ, n)
		}
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:8])
		text := typ == "tEXt" || typ == "zTXt" || typ == "iTXt"
		var data []byte
		if text {
			data = make([]byte, n)
			if _, err := io.ReadFull(br, data); err != nil {
				return out, fmt.Errorf("read png chunk %s: %w", typ, err)
			}
			crc.Write(data)
		} else if _, err := io.CopyN(crc, br, int64(n)); err != nil {
			return out, fmt.Errorf("read png chunk %s: %w", typ, err)
		}
		var sum [4]byte
		if _, err := io.ReadFull(br, sum[:]); err != nil {
			return out, fmt.Errorf("read png chunk %s crc: %w", typ, err)
		}
		if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
			return out, fmt.Errorf("read png chunk %s: crc mismatch", typ)
		}
		if text {
			c, err := decode(typ, data)
			if err != nil {
				bad = append(bad, err)
			} else {
				out = append(out, c)
			}
		}
		if typ == "IEND" {
			return out, errors.Join(bad...)
		}
	}
}

// ReadBytes is Read of a file already in memory: the same chunks and the
// same error, without copying the file through a reader (Read copies every
// chunk it skips through a fresh 32 KiB buffer: for a 1 MB PNG, a quarter
// of a short-lived compare's page faults). Every chunk's CRC is checked, as
// Read does. A file Read would reject is handed to Read, for its error.
func ReadBytes(data []byte) ([]Chunk, error) {
	if len(data) < len(Signature) || string(data[:len(Signature)]) != Signature {
		return Read(bytes.NewReader(data))
	}
	var (
		out []Chunk
		bad []error
	)
	for p := data[len(Signature):]; ; {
		if len(p) < 8 {
			return Read(bytes.NewReader(data))
		}
		n := binary.BigEndian.Uint32(p[:4])
		if n > MaxChunk || uint64(len(p)) < 12+uint64(n) {
			return Read(bytes.NewReader(data))
		}
		typ, body := p[4:8], p[8:8+n]
		if crc32.Update(crc32.ChecksumIEEE(typ), crc32.IEEETable, body) != binary.BigEndian.Uint32(p[8+n:]) {
			return Read(bytes.NewReader(data))
		}
		switch t := string(typ); t {
		case "tEXt", "zTXt", "iTXt":
			c, err := decode(t, body)
			if err != nil {
				bad = append(bad, err)
			} else {
				out = append(out, c)
			}
		case "IEND":
			return out, errors.Join(bad...)
		}
		p = p[12+n:]
	}
}

// decode decodes the body of one tEXt, zTXt or iTXt chunk.
func decode(typ string, data []byte) (Chunk, error) {
	key, rest, ok := bytes.Cut(data, []byte{0})
	c := Chunk{Type: typ, Keyword: Latin1(key)}
	fail := func(why string, args ...any) (Chunk, error) {
		return Chunk{}, fmt.Errorf("read png %s %q: %w: %s", typ, c.Keyword, ErrBadText, fmt.Sprintf(why, args...))
	}
	if !ok {
		return fail("no keyword separator")
	}
	switch typ {
	case "tEXt":
		c.Text = Latin1(rest)
	case "zTXt":
		if len(rest) < 1 || rest[0] != 0 {
			return fail("unknown compression method")
		}
		txt, err := inflate(rest[1:])
		if err != nil {
			return fail("%v", err)
		}
		c.Text = Latin1(txt)
	case "iTXt":
		// flag, method, language tag NUL, translated keyword NUL, text (UTF-8)
		if len(rest) < 2 {
			return fail("short header")
		}
		flag, method := rest[0], rest[1]
		_, after, ok1 := bytes.Cut(rest[2:], []byte{0})
		_, txt, ok2 := bytes.Cut(after, []byte{0})
		if !ok1 || !ok2 {
			return fail("no language or translated keyword separator")
		}
		if flag == 1 {
			if method != 0 {
				return fail("unknown compression method %d", method)
			}
			var err error
			if txt, err = inflate(txt); err != nil {
				return fail("%v", err)
			}
		}
		c.Text = string(txt)
	}
	return c, nil
}

// inflate decompresses a zlib stream of at most MaxText bytes.
func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxText+1))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if len(out) > MaxText {
		return nil, fmt.Errorf("inflate: text longer than %d bytes", MaxText)
	}
	return out, nil
}

// Latin1 decodes ISO 8859-1 bytes, the encoding of tEXt and zTXt, to UTF-8.
func Latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
