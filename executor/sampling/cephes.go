package sampling

import "math"

// Every product is wrapped in an explicit float32 conversion so that the Go
// compiler cannot fuse it into a neighbouring addition (the Go spec allows
// fusion except across explicit conversions).
//
// The float32 logarithm and sine/cosine below follow the Cephes single-
// precision algorithms (S. L. Moshier) in the form PyTorch's AVX2 kernel
// evaluates them (normal_fill_16_AVX2 with log256_ps / sincos256_ps of
// avx_mathfun.h): range reduction, the Cephes minimax polynomials, and
// every operation rounded to float32. PyTorch x86-64 wheels run this path on
// any AVX2 CPU, so these are what torch.randn really computes there.

// fma32 is a fused multiply-add rounded once to float32. The AVX2 kernel is
// compiled with -mfma and GCC contracts its mul+add pairs into vfmadd.
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// logf32 is Cephes logf as vectorised in log256_ps.
func logf32(x float32) float32 {
	const (
		sqrtHF = float32(0.707106781186547524)
		p0     = float32(7.0376836292e-2)
		p1     = float32(-1.1514610310e-1)
		p2     = float32(1.1676998740e-1)
		p3     = float32(-1.2420140846e-1)
		p4     = float32(1.4249322787e-1)
		p5     = float32(-1.6668057665e-1)
		p6     = float32(2.0000714765e-1)
		p7     = float32(-2.4999993993e-1)
		p8     = float32(3.3333331174e-1)
		q1     = float32(-2.12194440e-4)
		q2     = float32(0.693359375)
	)
	if x <= 0 {
		return float32(math.Inf(-1))
	}
	bits := math.Float32bits(x)
	// mantissa in [0.5, 1), exponent adjusted so that x = m·2^e.
	e := float32(int32(bits>>23)-0x7f) + 1
	m := math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5))
	var tmp float32
	if m < sqrtHF {
		tmp = m
		e--
	}
	m = m - 1
	m = m + tmp
	z := float32(m * m)
	y := fma32(p0, m, p1)
	y = fma32(y, m, p2)
	y = fma32(y, m, p3)
	y = fma32(y, m, p4)
	y = fma32(y, m, p5)
	y = fma32(y, m, p6)
	y = fma32(y, m, p7)
	y = fma32(y, m, p8)
	y = float32(y * m)
	y = float32(y * z)
	y = fma32(e, q1, y)
	y = fma32(z, -0.5, y)
	r := m + y
	r = fma32(e, q2, r)
	return r
}

// sincosf32 is Cephes sinf/cosf as vectorised in sincos256_ps.
func sincosf32(x float32) (sin, cos float32) {
	const (
		fopi   = float32(1.27323954473516)
		dp1    = float32(-0.78515625)
		dp2    = float32(-2.4187564849853515625e-4)
		dp3    = float32(-3.77489497744594108e-8)
		cosP0  = float32(2.443315711809948e-5)
		cosP1  = float32(-1.388731625493765e-3)
		cosP2  = float32(4.166664568298827e-2)
		sinP0  = float32(-1.9515295891e-4)
		sinP1  = float32(8.3321608736e-3)
		sinP2  = float32(-1.6666654611e-1)
		signBt = uint32(0x80000000)
	)
	signSin := math.Float32bits(x) & signBt
	x = float32(math.Abs(float64(x)))
	j := int32(float32(x * fopi))
	j = (j + 1) &^ 1
	y := float32(j)
	swapSin := uint32(j&4) << 29
	poly := j&2 == 0
	x = fma32(y, dp1, x)
	x = fma32(y, dp2, x)
	x = fma32(y, dp3, x)
	signCos := uint32(^(j-2)&4) << 29
	signSin ^= swapSin
	z := float32(x * x)
	yc := fma32(cosP0, z, cosP1)
	yc = fma32(yc, z, cosP2)
	yc = float32(yc * z)
	yc = float32(yc * z)
	yc = fma32(z, -0.5, yc)
	yc = yc + 1
	ys := fma32(sinP0, z, sinP1)
	ys = fma32(ys, z, sinP2)
	ys = float32(ys * z)
	ys = fma32(ys, x, x)
	s, c := yc, ys
	if poly {
		s, c = ys, yc
	}
	sin = math.Float32frombits(math.Float32bits(s) ^ signSin)
	cos = math.Float32frombits(math.Float32bits(c) ^ signCos)
	return sin, cos
}
