package pngmeta

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
)

func TestPNGByteTruncates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   float32
		want uint8
	}{
		{"zero", 0, 0},
		{"one", 1, 255},
		{"0.999 truncates to 254", 0.999, 254},
		{"half", 0.5, 127}, // 127.5 → 127, rounding would give 128
		{"just under one step", 1.0 / 255 * 0.999, 0},
		{"one step", 1.0 / 255, 1},
		{"negative clips", -0.2, 0},
		{"above one clips", 1.7, 255},
		{"NaN is zero", float32(nan()), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Byte(tt.in); got != tt.want {
				t.Fatalf("Byte(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestEncodePixelsAndChannels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		c     int
		pix   []float32 // one pixel of sample 1
		want  [4]uint8
		model any
	}{
		{"rgb", 3, []float32{0.999, 1.0, 0.5}, [4]uint8{254, 255, 127, 255}, &image.RGBA{}},
		{"rgba", 4, []float32{1, 0, 0.2, 1}, [4]uint8{255, 0, 51, 255}, &image.NRGBA{}},
		{"grey", 1, []float32{0.999}, [4]uint8{254, 254, 254, 255}, &image.Gray{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img := node.NewImage(2, 1, 1, tt.c)
			copy(img.Pix[tt.c:], tt.pix) // sample 1; sample 0 stays black
			data, err := Encode(img, 1, nil, png.DefaultCompression)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if got := nodetest.PixelRGBA(t, data, 0, 0); got != tt.want {
				t.Fatalf("pixel = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		img   *node.Image
		index int
		text  []node.KV
		want  string
	}{
		{"nil", nil, 0, nil, "nil image"},
		{"index", node.NewImage(1, 2, 2, 3), 1, nil, "out of range"},
		{"channels", node.NewImage(1, 2, 2, 2), 0, nil, "channels"},
		{"short pix", &node.Image{N: 1, H: 2, W: 2, C: 3, Pix: make([]float32, 3)}, 0, nil, "values for shape"},
		{"empty key", node.NewImage(1, 1, 1, 3), 0, []node.KV{{Key: "", Value: []byte("x")}}, "1-79"},
		{"long key", node.NewImage(1, 1, 1, 3), 0, []node.KV{{Key: strings.Repeat("k", 80), Value: []byte("x")}}, "1-79"},
		{"non latin-1 value", node.NewImage(1, 1, 1, 3), 0, []node.KV{{Key: "k", Value: []byte("日本")}}, "not Latin-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Encode(tt.img, tt.index, tt.text, png.BestSpeed)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEncodeTextRoundTrip(t *testing.T) {
	t.Parallel()
	img := node.NewImage(1, 3, 4, 3)
	for i := range img.Pix {
		img.Pix[i] = float32(i%7) / 7
	}
	text := []node.KV{
		{Key: "prompt", Value: []byte(`{"3": {"class_type": "KSampler"}}`)},
		{Key: "workflow", Value: []byte(`{"nodes": []}`)},
		{Key: "zeta", Value: []byte("caf\u00e9")}, // Latin-1, not ASCII
		{Key: "alpha", Value: []byte("")},
	}
	data, err := Encode(img, 0, text, png.DefaultCompression)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	got, err := ReadText(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadText: %v", err)
	}
	if len(got) != len(text) {
		t.Fatalf("got %d chunks, want %d: %+v", len(got), len(text), got)
	}
	for i := range text {
		if got[i].Key != text[i].Key || string(got[i].Value) != string(text[i].Value) {
			t.Errorf("chunk %d = %q=%q, want %q=%q", i, got[i].Key, got[i].Value, text[i].Key, text[i].Value)
		}
	}
	// The text does not disturb the image, and the bytes are deterministic.
	plain, err := Encode(img, 0, nil, png.DefaultCompression)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if nodetest.PixelRGBA(t, data, 3, 2) != nodetest.PixelRGBA(t, plain, 3, 2) {
		t.Fatalf("text chunks changed the pixels")
	}
	again, _ := Encode(img, 0, text, png.DefaultCompression)
	if !bytes.Equal(again, data) {
		t.Fatalf("Encode is not deterministic")
	}
}

func TestReadTextRejectsCorruption(t *testing.T) {
	t.Parallel()
	data, err := Encode(node.NewImage(1, 1, 1, 3), 0, []node.KV{{Key: "prompt", Value: []byte("{}")}}, png.BestSpeed)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   string
	}{
		{"bad signature", func(b []byte) []byte { b[1] = 'X'; return b }, "not a PNG"},
		{"bad crc", func(b []byte) []byte {
			i := bytes.Index(b, []byte("tEXt"))
			b[i+5] ^= 0xff // inside the keyword
			return b
		}, "crc mismatch"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-6] }, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.mutate(append([]byte(nil), data...))
			_, err := ReadText(bytes.NewReader(b))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReadTextCompressedChunks(t *testing.T) {
	t.Parallel()
	base, err := Encode(node.NewImage(1, 1, 1, 3), 0, nil, png.BestSpeed)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(`{"a": 1}`))
	zw.Close()
	var chunks bytes.Buffer
	WriteChunk(&chunks, "zTXt", append([]byte("prompt\x00\x00"), z.Bytes()...))
	WriteChunk(&chunks, "iTXt", []byte("workflow\x00\x00\x00en\x00\x00\u65e5\u672c"))
	const ihdrEnd = 33
	data := append(append(append([]byte(nil), base[:ihdrEnd]...), chunks.Bytes()...), base[ihdrEnd:]...)
	got, err := ReadText(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadText: %v", err)
	}
	want := []node.KV{{Key: "prompt", Value: []byte(`{"a": 1}`)}, {Key: "workflow", Value: []byte("\u65e5\u672c")}}
	if len(got) != 2 || got[0].Key != want[0].Key || string(got[0].Value) != string(want[0].Value) ||
		got[1].Key != want[1].Key || string(got[1].Value) != string(want[1].Value) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPyJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"separators and key order", `{"b":1,"a":[1,2,{}],"c":{"x":null,"y":true,"z":false}}`,
			`{"b": 1, "a": [1, 2, {}], "c": {"x": null, "y": true, "z": false}}`},
		{"already spaced", "{ \"a\" :\n [ ] }", `{"a": []}`},
		{"non-ascii escaped", `{"t":"café ☃ 😀"}`, `{"t": "caf\u00e9 \u2603 \ud83d\ude00"}`},
		{"escapes", `"q\"b\\s/\n\r\t\b\f\u0001\u007f<>&"`, `"q\"b\\s/\n\r\t\b\f\u0001\u007f<>&"`},
		{"big int kept", `18446744073709551615`, `18446744073709551615`},
		{"minus zero int", `-0`, `0`},
		{"floats", `[8.0, 8.5, 1e2, 1E-5, 0.0001, 1e16, 1e15, -0.0, 2.5e-7, 123456789.125]`,
			`[8.0, 8.5, 100.0, 1e-05, 0.0001, 1e+16, 1000000000000000.0, -0.0, 2.5e-07, 123456789.125]`},
		{"float shortest repr", `[0.1, 0.30000000000000004, 1.7976931348623157e308]`,
			`[0.1, 0.30000000000000004, 1.7976931348623157e+308]`},
		{"overflow is Infinity", `[1e400, -1e400]`, `[Infinity, -Infinity]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PyJSON([]byte(tt.in))
			if err != nil {
				t.Fatalf("PyJSON: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"a":1} x`, `{"a":`, ``} {
		if _, err := PyJSON([]byte(bad)); err == nil {
			t.Errorf("PyJSON(%q) succeeded, want an error", bad)
		}
	}
}

// TestPyJSONIsValidJSON checks that the output parses back to the same value.
func TestPyJSONIsValidJSON(t *testing.T) {
	t.Parallel()
	in := `{"3":{"inputs":{"seed":8566257,"cfg":8.0,"text":"ünïcödé \"q\""},"class_type":"KSampler"}}`
	out, err := PyJSON([]byte(in))
	if err != nil {
		t.Fatalf("PyJSON: %v", err)
	}
	var a, b any
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("round trip changed the value:\n%s\n%s", ja, jb)
	}
	for _, c := range out {
		if c >= 0x80 {
			t.Fatalf("output is not ASCII: %s", out)
		}
	}
}
