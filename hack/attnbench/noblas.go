//go:build !openblas

package attnbench

// openblasNT is nil without -tags openblas.
var openblasNT sgemm
