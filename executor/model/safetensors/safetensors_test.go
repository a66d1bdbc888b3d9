package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	f := &File{
		Metadata: map[string]string{"mode": "gmm", "vocabulary": `["red","blue"]`},
		Tensors: map[string]*Tensor{
			"b.half":   {DType: F16, Shape: []int{2, 3}, Data: []float32{0, 1, -2, 0.5, 65504, -0.25}},
			"a.single": {DType: F32, Shape: []int{3}, Data: []float32{1.5, float32(math.Pi), -7}},
			"c.scalar": {DType: F32, Shape: []int{}, Data: []float32{42}},
			"d.odd":    {DType: F16, Shape: []int{1}, Data: []float32{3}},
			"e.bytes":  {DType: U8, Shape: []int{3}, Data: []float32{0, 128, 255}},
		},
	}
	b, err := Marshal(f)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	hl := binary.LittleEndian.Uint64(b)
	if (8+hl)%8 != 0 {
		t.Errorf("header length %d leaves data unaligned", hl)
	}
	b2, err := Marshal(f)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("marshal twice differs (err %v)", err)
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := WriteFile(path, f); err != nil {
		t.Fatalf("write: %v", err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if g.Metadata["mode"] != "gmm" || g.Metadata["vocabulary"] != `["red","blue"]` {
		t.Errorf("metadata = %v", g.Metadata)
	}
	for _, name := range f.Names() {
		want, got := f.Tensors[name], g.Tensors[name]
		if got == nil {
			t.Fatalf("tensor %s missing", name)
		}
		if got.DType != want.DType || len(got.Shape) != len(want.Shape) {
			t.Errorf("%s: dtype/shape %s %v, want %s %v", name, got.DType, got.Shape, want.DType, want.Shape)
		}
		for i := range want.Data {
			if got.Data[i] != want.Data[i] {
				t.Errorf("%s[%d] = %v, want %v", name, i, got.Data[i], want.Data[i])
			}
		}
	}
	_, entries, _, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Begin%int64(e.DType.Size()) != 0 {
			t.Errorf("%s begins at %d, not aligned", e.Name, e.Begin)
		}
	}
	if _, err := g.Tensor("b.half", 2, -1); err != nil {
		t.Errorf("shape check: %v", err)
	}
	if _, err := g.Tensor("b.half", 3, 2); err == nil {
		t.Errorf("shape check accepted a wrong shape")
	}
}

func TestF16(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   float32
		bits uint16
	}{
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"max", 65504, 0x7bff},
		{"overflow", 65520, 0x7c00},
		{"smallest subnormal", float32(math.Ldexp(1, -24)), 0x0001},
		{"underflow", float32(math.Ldexp(1, -26)), 0x0000},
		{"tie to even down", 1 + float32(math.Ldexp(1, -11)), 0x3c00},
		{"tie to even up", 1 + 3*float32(math.Ldexp(1, -11)), 0x3c02},
		{"third", 1.0 / 3, 0x3555},
		{"inf", float32(math.Inf(-1)), 0xfc00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := f32ToF16(tc.in); got != tc.bits {
				t.Errorf("f32ToF16(%v) = %#04x, want %#04x", tc.in, got, tc.bits)
			}
		})
	}
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN payloads are not preserved
		}
		if got := f32ToF16(f16ToF32(uint16(h))); got != uint16(h) {
			t.Fatalf("f16 %#04x -> %v -> %#04x", h, f16ToF32(uint16(h)), got)
		}
	}
	if v := bf16ToF32(0x3f80); v != 1 {
		t.Errorf("bf16 1.0 = %v", v)
	}
	if v := f16ToF32(f32ToF16(float32(math.NaN()))); !math.IsNaN(float64(v)) {
		t.Errorf("NaN not preserved: %v", v)
	}
}

// frame builds a file from a raw header and data.
func frame(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestHostile(t *testing.T) {
	t.Parallel()
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", []byte{1, 2, 3}},
		{"header too long", append(huge, '{', '}')},
		{"header past end", frame("{}", nil)[:9]},
		{"not an object", frame(`[1,2]`, nil)},
		{"bad json", frame(`{"a":`, nil)},
		{"bad metadata", frame(`{"__metadata__":{"a":1}}`, nil)},
		{"unknown dtype", frame(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, []byte{0})},
		{"negative shape", frame(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"size mismatch", frame(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"past end", frame(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 8))},
		{"reversed", frame(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 8))},
		{"negative offset", frame(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, make([]byte, 8))},
		{"overflowing shape", frame(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}}`, nil)},
		{"overlap", frame(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8))},
		{"wrong types", frame(`{"a":{"dtype":"F32","shape":"x","data_offsets":[0,4]}}`, make([]byte, 4))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.b)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestMarshalRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    *File
	}{
		{"bf16", &File{Tensors: map[string]*Tensor{"a": {DType: BF16, Shape: []int{1}, Data: []float32{1}}}}},
		{"shape", &File{Tensors: map[string]*Tensor{"a": {Shape: []int{2}, Data: []float32{1}}}}},
		{"reserved", &File{Tensors: map[string]*Tensor{metadataKey: {Shape: []int{1}, Data: []float32{1}}}}},
		{"u8 fraction", &File{Tensors: map[string]*Tensor{"a": {DType: U8, Shape: []int{1}, Data: []float32{1.5}}}}},
		{"u8 range", &File{Tensors: map[string]*Tensor{"a": {DType: U8, Shape: []int{1}, Data: []float32{256}}}}},
		{"u8 negative", &File{Tensors: map[string]*Tensor{"a": {DType: U8, Shape: []int{1}, Data: []float32{-1}}}}},
		{"u8 nan", &File{Tensors: map[string]*Tensor{"a": {DType: U8, Shape: []int{1}, Data: []float32{float32(math.NaN())}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Marshal(tc.f); err == nil {
				t.Fatal("Marshal accepted it")
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	good, _ := Marshal(&File{Metadata: map[string]string{"k": "v"}, Tensors: map[string]*Tensor{
		"a": {DType: F16, Shape: []int{2}, Data: []float32{1, 2}},
		"b": {Shape: []int{1, 1}, Data: []float32{3}},
	}})
	f.Add(good)
	f.Add(frame(`{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, []byte{0x80, 0x3f}))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		for _, n := range file.Names() {
			tt := file.Tensors[n]
			if tt.Numel() != len(tt.Data) {
				t.Fatalf("%s: numel %d, data %d", n, tt.Numel(), len(tt.Data))
			}
		}
	})
}

func TestQuantizeU8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want float32
	}{
		{0, 0}, {0.49, 0}, {0.5, 1}, {127.5, 128}, {254.6, 255}, {300, 255}, {-3, 0}, {float32(math.NaN()), 0},
	}
	for _, tc := range tests {
		t.Run(fmtFloat(tc.in), func(t *testing.T) {
			if got := Quantize(U8, tc.in); got != tc.want {
				t.Errorf("Quantize(U8, %v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	// Every pixel level k/255 survives ×255 → U8 → /255 exactly.
	for k := 0; k <= 255; k++ {
		v := float32(k) / 255
		if got := Quantize(U8, v*255) / 255; got != v {
			t.Fatalf("level %d: %v → %v", k, v, got)
		}
	}
}

func fmtFloat(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
