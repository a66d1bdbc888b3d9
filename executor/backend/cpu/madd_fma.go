//go:build arm64 || amd64.v3

package cpu

import "math"

// madd returns z + x·y with one rounding, as a hardware FMA (arm64 always,
// amd64 when built with GOAMD64=v3 or later). The kernels only ever call it
// with x and y holding float32 values, whose product is exact in float64,
// so this gives the same bits as the separate multiply and add of
// madd_plain.go: the build level changes the speed, never the result.
func madd(x, y, z float64) float64 { return math.FMA(x, y, z) }
