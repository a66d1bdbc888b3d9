// Package hugepage allocates the comparator's large buffers (decoded
// images, the OKLab table) so that the kernel can back them with 2 MiB
// pages where it offers them only on request (Linux transparent huge pages
// in "madvise" mode, the common default).
//
// A compare is a short-lived process whose large buffers are all fresh
// memory: every 4 KiB page first touched is a page fault (≈ 5 900 for a
// 1024² pair, ≈ 15 % of its CPU time in the kernel), and the OKLab table's
// random look-ups miss the TLB. A 2 MiB page is one fault and one TLB
// entry. The contents are the same either way: this changes the speed,
// never a value.
package hugepage

import "unsafe"

// Size is the huge page size asked for: 2 MiB, x86-64's and arm64's
// (with 4 KiB base pages).
const Size = 2 << 20

// MinLen is the smallest buffer worth aligning: under it at most a part of
// one huge page would be covered, and the padding would cost more than it
// saves.
const MinLen = 2 * Size

// Make returns a zeroed slice of n elements of T (a type without pointers)
// whose memory, when it holds at least MinLen bytes, starts on a Size
// boundary and is advised for huge pages (Advise). Smaller slices are plain
// make([]T, n). The slice's capacity is n.
func Make[T any](n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if size == 0 || n*size < MinLen || Size%size != 0 {
		return make([]T, n)
	}
	// A tail of a quarter of a huge page or more is given a whole one
	// (its 4 KiB pages would be ≥ 128 faults); a smaller one stays on
	// 4 KiB pages, rather than have a 2 MiB page cleared for it.
	span := n * size
	if tail := span % Size; tail >= Size/4 {
		span += Size - tail
	}
	pad := Size / size
	b := make([]T, span/size+pad)
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(b))) % Size; r != 0 {
		off = int((Size - r) / uintptr(size))
	}
	Advise(unsafe.Slice((*byte)(unsafe.Pointer(&b[off])), span))
	return b[off : off+n : off+n]
}
