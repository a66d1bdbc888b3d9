//go:build !arm64 && !amd64.v3

package cpu

// madd returns z + x·y. The kernels only ever call it with x and y holding
// float32 values, whose product is exact in float64, so this separate
// multiply and add gives the same bits as the FMA of madd_fma.go. (On amd64
// below v3, math.FMA would check the CPU at every call and run ~30% slower
// than this; the explicit conversion stops other compilers fusing it, which
// would be harmless anyway.)
func madd(x, y, z float64) float64 { return z + float64(x*y) }
