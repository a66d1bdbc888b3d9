//go:build !amd64 || amd64.v3

package pmath

// mathFused reports whether the math package's Go code is compiled with
// fused multiply-adds in this build (arm64, GOAMD64=v3; conservatively
// every GOARCH but amd64): yes here.
const mathFused = true
