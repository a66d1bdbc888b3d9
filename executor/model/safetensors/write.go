package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// Marshal encodes f deterministically. Tensors are stored with their DType
// (F32 when empty); F16 rounds to nearest even; U8 requires every value to
// be an integer in 0..255 (use Quantize first). BF16 cannot be written.
func Marshal(f *File) ([]byte, error) {
	names := f.Names()
	for _, n := range names {
		t := f.Tensors[n]
		if n == metadataKey || n == "" {
			return nil, fmt.Errorf("marshal tensor %q: reserved or empty name", n)
		}
		if t.DType == "" {
			t.DType = F32
		}
		if t.DType != F32 && t.DType != F16 && t.DType != U8 {
			return nil, fmt.Errorf("marshal tensor %q: cannot write dtype %s", n, t.DType)
		}
		if t.DType == U8 {
			for i, v := range t.Data {
				if !(v >= 0 && v <= 255) || v != float32(math.Trunc(float64(v))) {
					return nil, fmt.Errorf("marshal tensor %q: element %d = %v is not a U8 value", n, i, v)
				}
			}
		}
		if t.Numel() != len(t.Data) {
			return nil, fmt.Errorf("marshal tensor %q: shape %v holds %d elements, data has %d", n, t.Shape, t.Numel(), len(t.Data))
		}
	}
	// Largest elements first keeps every tensor naturally aligned without
	// holes between tensors (which strict readers reject).
	sort.SliceStable(names, func(i, j int) bool {
		return f.Tensors[names[i]].DType.Size() > f.Tensors[names[j]].DType.Size()
	})

	var hdr bytes.Buffer
	hdr.WriteByte('{')
	first := true
	writeKey := func(k string) {
		if !first {
			hdr.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k) // a string always marshals
		hdr.Write(kb)
		hdr.WriteByte(':')
	}
	if len(f.Metadata) > 0 {
		writeKey(metadataKey)
		mb, err := json.Marshal(f.Metadata) // map keys are sorted
		if err != nil {
			return nil, fmt.Errorf("marshal metadata: %w", err)
		}
		hdr.Write(mb)
	}
	var off int64
	for _, n := range names {
		t := f.Tensors[n]
		size := int64(len(t.Data) * t.DType.Size())
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		eb, err := json.Marshal(struct {
			DType       DType    `json:"dtype"`
			Shape       []int    `json:"shape"`
			DataOffsets [2]int64 `json:"data_offsets"`
		}{t.DType, shape, [2]int64{off, off + size}})
		if err != nil {
			return nil, fmt.Errorf("marshal tensor %q: %w", n, err)
		}
		writeKey(n)
		hdr.Write(eb)
		off += size
	}
	hdr.WriteByte('}')
	for (8+hdr.Len())%8 != 0 {
		hdr.WriteByte(' ')
	}

	out := make([]byte, 8, 8+hdr.Len()+int(off))
	binary.LittleEndian.PutUint64(out, uint64(hdr.Len()))
	out = append(out, hdr.Bytes()...)
	for _, n := range names {
		t := f.Tensors[n]
		switch t.DType {
		case F32:
			for _, v := range t.Data {
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
			}
		case F16:
			for _, v := range t.Data {
				out = binary.LittleEndian.AppendUint16(out, f32ToF16(v))
			}
		case U8:
			for _, v := range t.Data {
				out = append(out, uint8(v))
			}
		}
	}
	return out, nil
}

// WriteFile marshals f and writes it to path.
func WriteFile(path string, f *File) error {
	b, err := Marshal(f)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

// Quantize returns v rounded through the given storage dtype, so that callers
// can compute with exactly the values a written file will hold. For U8 it
// rounds half away from zero and clamps to 0..255 (NaN becomes 0).
func Quantize(d DType, v float32) float32 {
	switch d {
	case F16:
		return f16ToF32(f32ToF16(v))
	case U8:
		if !(v > 0) {
			return 0
		}
		return float32(math.Min(255, math.Round(float64(v))))
	}
	return v
}
