package compare

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// maxTextChunk bounds a decompressed zTXt/iTXt value.
const maxTextChunk = 64 << 20

// pngText returns the textual metadata of a PNG file (tEXt, zTXt and iTXt
// chunks), keyword → text; the first chunk with a keyword wins. It stops at
// IDAT's end (IEND) and ignores chunks it cannot read, since metadata is
// advisory; only a missing signature or a truncated chunk is an error.
func pngText(data []byte) (map[string]string, error) {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil, errors.New("read png metadata: not a PNG file")
	}
	out := map[string]string{}
	rest := data[len(pngSignature):]
	for len(rest) >= 12 {
		n := binary.BigEndian.Uint32(rest[:4])
		typ := string(rest[4:8])
		if uint64(n)+12 > uint64(len(rest)) {
			return out, fmt.Errorf("read png chunk %q: truncated", typ)
		}
		body := rest[8 : 8+n]
		rest = rest[12+n:]
		var key, val string
		var ok bool
		switch typ {
		case "tEXt":
			key, val, ok = parseTEXt(body)
		case "zTXt":
			key, val, ok = parseZTXt(body)
		case "iTXt":
			key, val, ok = parseITXt(body)
		case "IEND":
			return out, nil
		}
		if ok {
			if _, dup := out[key]; !dup {
				out[key] = val
			}
		}
	}
	return out, errors.New("read png metadata: truncated before IEND")
}

func parseTEXt(b []byte) (string, string, bool) {
	k, v, ok := bytes.Cut(b, []byte{0})
	if !ok {
		return "", "", false
	}
	return string(k), latin1(v), true
}

func parseZTXt(b []byte) (string, string, bool) {
	k, v, ok := bytes.Cut(b, []byte{0})
	if !ok || len(v) < 1 || v[0] != 0 {
		return "", "", false
	}
	s, err := inflate(v[1:])
	if err != nil {
		return "", "", false
	}
	return string(k), latin1(s), true
}

func parseITXt(b []byte) (string, string, bool) {
	k, v, ok := bytes.Cut(b, []byte{0})
	if !ok || len(v) < 2 {
		return "", "", false
	}
	compressed, method := v[0], v[1]
	v = v[2:]
	// Language tag and translated keyword, each NUL-terminated.
	for range 2 {
		if _, v, ok = bytes.Cut(v, []byte{0}); !ok {
			return "", "", false
		}
	}
	if compressed == 1 {
		if method != 0 {
			return "", "", false
		}
		s, err := inflate(v)
		if err != nil {
			return "", "", false
		}
		v = s
	}
	return string(k), string(v), true
}

func inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("inflate text chunk: %w", err)
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxTextChunk))
	if err != nil {
		return nil, fmt.Errorf("inflate text chunk: %w", err)
	}
	return out, nil
}

// latin1 decodes ISO 8859-1 bytes (tEXt's encoding) to UTF-8. Bytes below
// 0x80 are unchanged, so ComfyUI's ASCII JSON passes through; text that is
// already valid UTF-8 (written by tools that ignore the rule) is kept.
func latin1(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
