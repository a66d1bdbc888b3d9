package hugepage

import (
	"syscall"
	"unsafe"
)

// madvHugepage is MADV_HUGEPAGE (not in package syscall).
const madvHugepage = 14

// Advise asks the kernel to back the whole huge pages inside b with huge
// pages when they are first touched. Best effort: an error (no THP in this
// kernel, THP off) leaves 4 KiB pages, and b's contents never change.
func Advise(b []byte) {
	if len(b) < Size {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	s := (p + Size - 1) &^ (Size - 1)
	e := (p + uintptr(len(b))) &^ (Size - 1)
	if e <= s {
		return
	}
	_ = syscall.Madvise(b[s-p:e-p], madvHugepage)
}
