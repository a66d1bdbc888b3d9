package hugepage

import (
	"testing"
	"unsafe"
)

type slot struct {
	key uint32
	v   [3]float32
}

func TestMake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		n       int
		aligned bool
	}{
		{"small stays plain", 1000, false},
		{"just under MinLen", MinLen - 1, false},
		{"MinLen", MinLen, true},
		{"1024² image data", 4<<20 + 1024, true},
		{"a tail of half a huge page", 5 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := Make[byte](tt.n)
			if len(b) != tt.n || cap(b) != tt.n {
				t.Fatalf("len %d cap %d, want %d", len(b), cap(b), tt.n)
			}
			for i, v := range b {
				if v != 0 {
					t.Fatalf("b[%d] = %d, want zero memory", i, v)
				}
			}
			p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
			if tt.aligned && p%Size != 0 {
				t.Errorf("start %#x not on a %d boundary", p, Size)
			}
			b[len(b)-1] = 1 // the whole length is usable
		})
	}
	t.Run("typed", func(t *testing.T) {
		t.Parallel()
		s := Make[slot](1 << 18)
		if len(s) != 1<<18 || cap(s) != 1<<18 {
			t.Fatalf("len %d cap %d", len(s), cap(s))
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(s))); p%Size != 0 {
			t.Errorf("start %#x not on a %d boundary", p, Size)
		}
		s[len(s)-1].key = 1
	})
}

func TestAdviseKeepsContents(t *testing.T) {
	t.Parallel()
	b := make([]byte, 3*Size)
	for i := range b {
		b[i] = byte(i * 7)
	}
	Advise(b)
	Advise(b[1:Size]) // under one huge page: nothing to advise
	for i := range b {
		if b[i] != byte(i*7) {
			t.Fatalf("b[%d] changed", i)
		}
	}
}
