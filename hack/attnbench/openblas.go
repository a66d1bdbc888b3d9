//go:build openblas

package attnbench

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import "unsafe"

// openblasNT is C = A·Bᵀ through OpenBLAS's cblas_sgemm.
var openblasNT sgemm = func(m, n, k int, a, b, c []float32) {
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasTrans, C.int(m), C.int(n), C.int(k), 1,
		(*C.float)(unsafe.Pointer(&a[0])), C.int(k), (*C.float)(unsafe.Pointer(&b[0])), C.int(k), 0,
		(*C.float)(unsafe.Pointer(&c[0])), C.int(n))
}
