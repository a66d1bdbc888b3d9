//go:build !linux

package hugepage

// Advise does nothing here: huge pages are asked for on Linux only.
func Advise(b []byte) {}
