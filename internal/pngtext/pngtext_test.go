package pngtext

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"
)

// chunk encodes one PNG chunk with its CRC.
func chunk(typ string, body []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(body)))
	b.WriteString(typ)
	b.Write(body)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
	return b.Bytes()
}

func zlibOf(s string) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return z.Bytes()
}

// withChunks encodes a 2×2 image and inserts chunks before IEND.
func withChunks(t *testing.T, chunks ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	iend := len(data) - 12
	out := append([]byte(nil), data[:iend]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, data[iend:]...)
}

func TestReadEveryKindInFileOrder(t *testing.T) {
	t.Parallel()
	data := withChunks(t,
		chunk("tEXt", []byte(`prompt`+"\x00"+`{"3": {}}`)),
		chunk("zTXt", append([]byte("workflow\x00\x00"), zlibOf(`{"nodes": []}`)...)),
		chunk("iTXt", []byte("title\x00\x00\x00en\x00Titel\x00h\u00e9llo \u65e5\u672c")),
		chunk("iTXt", append([]byte("iz\x00\x01\x00\x00\x00"), zlibOf("compressed \u00fc")...)),
		chunk("tEXt", []byte("latin\x00caf\xe9")),
		chunk("tEXt", []byte("prompt\x00second")),
		chunk("tEXt", []byte("empty\x00")),
	)
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := []Chunk{
		{"tEXt", "prompt", `{"3": {}}`},
		{"zTXt", "workflow", `{"nodes": []}`},
		{"iTXt", "title", "h\u00e9llo \u65e5\u672c"},
		{"iTXt", "iz", "compressed \u00fc"},
		{"tEXt", "latin", "caf\u00e9"},
		{"tEXt", "prompt", "second"},
		{"tEXt", "empty", ""},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Read =\n%q\nwant\n%q", got, want)
	}
	if got, err := Read(bytes.NewReader(withChunks(t))); err != nil || len(got) != 0 {
		t.Errorf("Read of a PNG without text = %q, %v", got, err)
	}
}

func TestReadRejectsABrokenFile(t *testing.T) {
	t.Parallel()
	good := withChunks(t, chunk("tEXt", []byte("prompt\x00{}")))
	huge := append([]byte(Signature), chunk("IHDR", make([]byte, 13))...)
	huge = append(huge, 0x7f, 0xff, 0xff, 0xff, 't', 'E', 'X', 't')
	tests := []struct {
		name string
		data []byte
		want string
		not  error
	}{
		{name: "not a png", data: []byte("GIF89a......"), want: "not a PNG"},
		{name: "empty", data: nil, want: "signature"},
		{name: "bad crc", data: func() []byte {
			b := slices.Clone(good)
			b[bytes.Index(b, []byte("prompt"))] ^= 0xff
			return b
		}(), want: "tEXt: crc mismatch"},
		{name: "truncated", data: good[:len(good)-6], want: "EOF"},
		{name: "truncated in a text chunk", data: good[:bytes.Index(good, []byte("prompt"))+3], want: "read png chunk tEXt"},
		{name: "chunk too large", data: huge, want: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Read(bytes.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read = %v, want %q", err, tt.want)
			}
			if errors.Is(err, ErrBadText) {
				t.Errorf("a broken file reads as a bad text chunk (a lenient reader would carry on): %v", err)
			}
		})
	}
	if _, err := Read(bytes.NewReader([]byte("GIF89a......"))); !errors.Is(err, ErrNotPNG) {
		t.Errorf("Read(GIF) = %v, want ErrNotPNG", err)
	}
}

// TestBadTextChunks: an intact chunk that does not decode is reported with
// ErrBadText after the whole file is read, with the chunks that decoded.
func TestBadTextChunks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		bad  []byte
		want string
	}{
		{name: "tEXt without separator", bad: chunk("tEXt", []byte("nokeyword")), want: "no keyword separator"},
		{name: "zTXt unknown method", bad: chunk("zTXt", []byte("k\x00\x07xx")), want: "unknown compression method"},
		{name: "zTXt not zlib", bad: chunk("zTXt", []byte("k\x00\x00not zlib")), want: "inflate"},
		{name: "iTXt short", bad: chunk("iTXt", []byte("k\x00\x01")), want: "short header"},
		{name: "iTXt no separators", bad: chunk("iTXt", []byte("k\x00\x00\x00en")), want: "separator"},
		{name: "iTXt unknown method", bad: chunk("iTXt", []byte("k\x00\x01\x05\x00\x00x")), want: "unknown compression method 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := withChunks(t, chunk("tEXt", []byte("before\x00a")), tt.bad, chunk("tEXt", []byte("after\x00b")))
			got, err := Read(bytes.NewReader(data))
			if !errors.Is(err, ErrBadText) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read err = %v, want ErrBadText saying %q", err, tt.want)
			}
			if want := []Chunk{{"tEXt", "before", "a"}, {"tEXt", "after", "b"}}; !slices.Equal(got, want) {
				t.Errorf("Read kept %q, want %q", got, want)
			}
		})
	}
}

func TestLatin1(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "ascii {}": "ascii {}", "caf\xe9": "caf\u00e9", "\xc3\xa9": "\u00c3\u00a9"} {
		if got := Latin1([]byte(in)); got != want {
			t.Errorf("Latin1(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadBytesIsRead: ReadBytes gives Read's chunks and error on a file
// with every kind of chunk, a bad one among them, on each of its prefixes
// (truncated anywhere) and with each of its bytes flipped (a bad CRC, a
// length past the end, a broken signature).
func TestReadBytesIsRead(t *testing.T) {
	t.Parallel()
	full := withChunks(t,
		chunk("tEXt", []byte(`prompt`+"\x00"+`{"3": {}}`)),
		chunk("zTXt", append([]byte("workflow\x00\x00"), zlibOf(`{"nodes": []}`)...)),
		chunk("iTXt", []byte("title\x00\x00\x00en\x00Titel\x00h\u00e9llo")),
		chunk("zTXt", []byte("k\x00\x07xx")),
		chunk("tEXt", []byte("latin\x00caf\xe9")),
	)
	huge := append([]byte(Signature), chunk("IHDR", make([]byte, 13))...)
	huge = append(huge, 0x7f, 0xff, 0xff, 0xff, 't', 'E', 'X', 't')
	inputs := map[string][]byte{"full": full, "huge": huge, "empty": nil, "gif": []byte("GIF89a......")}
	for n := range len(full) {
		inputs[fmt.Sprintf("prefix %d", n)] = full[:n]
	}
	for i := range full {
		b := slices.Clone(full)
		b[i] ^= 0x5a
		inputs[fmt.Sprintf("byte %d flipped", i)] = b
	}
	for name, data := range inputs {
		want, wantErr := Read(bytes.NewReader(data))
		got, gotErr := ReadBytes(data)
		if !slices.Equal(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || errors.Is(gotErr, ErrBadText) != errors.Is(wantErr, ErrBadText) {
			t.Errorf("%s: ReadBytes = %q, %v\nRead gives %q, %v", name, got, gotErr, want, wantErr)
		}
	}
}
