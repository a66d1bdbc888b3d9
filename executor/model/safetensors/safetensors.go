package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
)

// DType is a tensor element type as spelled in the header.
type DType string

// Supported element types. F32, F16 and U8 can be written; all four are
// read. U8 elements decode to their integer value (0..255) as float32; any
// scaling (e.g. pixel = value/255) is the caller's documented convention.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	U8   DType = "U8"
)

// Size returns the element size in bytes, or 0 for an unsupported dtype.
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case F16, BF16:
		return 2
	case U8:
		return 1
	}
	return 0
}

// MaxHeaderSize bounds the JSON header (the reference implementation uses
// 100 MB); larger headers are rejected before any allocation.
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved header entry for free-form string metadata.
const metadataKey = "__metadata__"

// ErrInvalid is wrapped by every error about a malformed file.
var ErrInvalid = errors.New("invalid safetensors")

// Tensor is one named tensor, decoded to float32. DType records how it was
// (or is to be) stored.
type Tensor struct {
	DType DType
	Shape []int
	Data  []float32
}

// Numel returns the product of the shape.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a whole safetensors file in memory.
type File struct {
	Metadata map[string]string
	Tensors  map[string]*Tensor
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tensor returns the named tensor, checking its shape when want is non-empty
// (a -1 in want matches any extent).
func (f *File) Tensor(name string, want ...int) (*Tensor, error) {
	t, ok := f.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("find tensor %q: %w: not present", name, ErrInvalid)
	}
	if len(want) == 0 {
		return t, nil
	}
	ok = len(want) == len(t.Shape)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] < 0 || want[i] == t.Shape[i]
	}
	if !ok {
		return nil, fmt.Errorf("check tensor %q: %w: shape %v, want %v", name, ErrInvalid, t.Shape, want)
	}
	return t, nil
}

// headerEntry is one tensor's header record.
type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Entry is a validated header record, exposed for tools and tests.
type Entry struct {
	Name       string
	DType      DType
	Shape      []int
	Begin, End int64 // byte offsets into the data section
}

// ParseHeader validates a file's framing and header against the data that
// follows it, without decoding tensors. It returns the metadata, the entries
// sorted by Begin, and the offset at which the data section starts.
func ParseHeader(b []byte) (map[string]string, []Entry, int, error) {
	if len(b) < 8 {
		return nil, nil, 0, fmt.Errorf("read header length: %w: file is %d bytes", ErrInvalid, len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > MaxHeaderSize || n > uint64(len(b)-8) {
		return nil, nil, 0, fmt.Errorf("read header: %w: header length %d exceeds file or limit", ErrInvalid, n)
	}
	start := 8 + int(n)
	hdr := b[8:start]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, 0, fmt.Errorf("read header: %w: header is not a JSON object", ErrInvalid)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, 0, fmt.Errorf("decode header: %w: %v", ErrInvalid, err)
	}
	meta := map[string]string{}
	if m, ok := raw[metadataKey]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, 0, fmt.Errorf("decode metadata: %w: %v", ErrInvalid, err)
		}
		delete(raw, metadataKey)
	}
	dataLen := int64(len(b) - start)
	entries := make([]Entry, 0, len(raw))
	for name, r := range raw {
		var h headerEntry
		if err := json.Unmarshal(r, &h); err != nil {
			return nil, nil, 0, fmt.Errorf("decode entry %q: %w: %v", name, ErrInvalid, err)
		}
		e, err := validate(name, h, dataLen)
		if err != nil {
			return nil, nil, 0, err
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Begin != entries[j].Begin {
			return entries[i].Begin < entries[j].Begin
		}
		return entries[i].Name < entries[j].Name
	})
	for i := 1; i < len(entries); i++ {
		p, c := entries[i-1], entries[i]
		if c.Begin < p.End {
			return nil, nil, 0, fmt.Errorf("check offsets: %w: tensors %q and %q overlap", ErrInvalid, p.Name, c.Name)
		}
	}
	return meta, entries, start, nil
}

func validate(name string, h headerEntry, dataLen int64) (Entry, error) {
	size := h.DType.Size()
	if size == 0 {
		return Entry{}, fmt.Errorf("check tensor %q: %w: unsupported dtype %q", name, ErrInvalid, h.DType)
	}
	numel := int64(1)
	shape := make([]int, len(h.Shape))
	for i, d := range h.Shape {
		if d < 0 || d > math.MaxInt32 {
			return Entry{}, fmt.Errorf("check tensor %q: %w: bad extent %d", name, ErrInvalid, d)
		}
		if d != 0 && numel > dataLen/d {
			return Entry{}, fmt.Errorf("check tensor %q: %w: shape %v larger than the file", name, ErrInvalid, h.Shape)
		}
		numel *= d
		shape[i] = int(d)
	}
	begin, end := h.DataOffsets[0], h.DataOffsets[1]
	if begin < 0 || end < begin || end > dataLen {
		return Entry{}, fmt.Errorf("check tensor %q: %w: offsets [%d, %d) outside data of %d bytes", name, ErrInvalid, begin, end, dataLen)
	}
	if end-begin != numel*int64(size) {
		return Entry{}, fmt.Errorf("check tensor %q: %w: %d bytes for %d %s elements", name, ErrInvalid, end-begin, numel, h.DType)
	}
	return Entry{Name: name, DType: h.DType, Shape: shape, Begin: begin, End: end}, nil
}

// Parse decodes a whole file held in memory.
func Parse(b []byte) (*File, error) {
	meta, entries, start, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	f := &File{Metadata: meta, Tensors: make(map[string]*Tensor, len(entries))}
	data := b[start:]
	for _, e := range entries {
		raw := data[e.Begin:e.End]
		t := &Tensor{DType: e.DType, Shape: e.Shape}
		switch e.DType {
		case F32:
			t.Data = make([]float32, len(raw)/4)
			for i := range t.Data {
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case F16:
			t.Data = make([]float32, len(raw)/2)
			for i := range t.Data {
				t.Data[i] = f16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		case BF16:
			t.Data = make([]float32, len(raw)/2)
			for i := range t.Data {
				t.Data[i] = bf16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		case U8:
			t.Data = make([]float32, len(raw))
			for i, b := range raw {
				t.Data[i] = float32(b)
			}
		}
		f.Tensors[e.Name] = t
	}
	return f, nil
}

// ReadFile reads and parses the file at path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read safetensors: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return f, nil
}
