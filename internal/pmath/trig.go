package pmath

import "math"

// Cephes' polynomials: sin z ≈ z + z³·S(z²), cos z ≈ 1 − z²/2 + z⁴·C(z²)
// on |z| ≤ π/4.
var (
	sinCoef = [...]float64{
		1.58962301576546568060e-10,
		-2.50507477628578072866e-8,
		2.75573136213857245213e-6,
		-1.98412698295895385996e-4,
		8.33333333332211858878e-3,
		-1.66666666666666307295e-1,
	}
	cosCoef = [...]float64{
		-1.13585365213876817300e-11,
		2.08757008419747316778e-9,
		-2.75573141792967388112e-7,
		2.48015872888517045348e-5,
		-1.38888888888730564116e-3,
		4.16666666666665929218e-2,
	}
)

// reduce returns the octant j (0…7, made even) of x ≥ 0 and z = x − j·π/4,
// |z| ≤ π/4, by Cody–Waite with π/4 in three parts (exact for x < 2^29).
// ok is false where x is too large to reduce at all.
func reduce(x float64) (j uint64, z float64, ok bool) {
	const (
		pi4A = 7.85398125648498535156e-1  // π/4, first 30 bits
		pi4B = 3.77489470793079817668e-8  // next 30 bits
		pi4C = 2.69515142907905952645e-15 // the rest
	)
	if x >= 1<<62 {
		return 0, 0, false
	}
	j = uint64(x * (4 / math.Pi))
	y := float64(j)
	if j&1 == 1 {
		j++
		y++
	}
	z = ((x - float64(y*pi4A)) - float64(y*pi4B)) - float64(y*pi4C)
	return j, z, true
}

// reduceOdd is reduce for the odd functions Sin and Tan, with their
// special cases: ±0 and NaN give themselves, ±Inf and arguments too large
// to reduce NaN (ok false, the result in special); otherwise the octant and
// reduced argument of |x|, and whether x < 0.
func reduceOdd(x float64) (j uint64, z float64, neg bool, special float64, ok bool) {
	switch {
	case x == 0 || x != x:
		return 0, 0, false, x, false
	case math.IsInf(x, 0):
		return 0, 0, false, math.NaN(), false
	}
	if x < 0 {
		x, neg = -x, true
	}
	if j, z, ok = reduce(x); !ok {
		return 0, 0, false, math.NaN(), false
	}
	return j, z, neg, 0, true
}

// sinPoly and cosPoly evaluate the kernels on |z| ≤ π/4 (zz = z²).
func sinPoly(z, zz float64) float64 {
	p := float64(sinCoef[0]*zz) + sinCoef[1]
	p = float64(p*zz) + sinCoef[2]
	p = float64(p*zz) + sinCoef[3]
	p = float64(p*zz) + sinCoef[4]
	p = float64(p*zz) + sinCoef[5]
	return z + float64(float64(z*zz)*p)
}

func cosPoly(zz float64) float64 {
	p := float64(cosCoef[0]*zz) + cosCoef[1]
	p = float64(p*zz) + cosCoef[2]
	p = float64(p*zz) + cosCoef[3]
	p = float64(p*zz) + cosCoef[4]
	p = float64(p*zz) + cosCoef[5]
	return (1.0 - float64(0.5*zz)) + float64(float64(zz*zz)*p)
}

// Sin returns the sine of x (radians), within 1 ulp for |x| < 2^29.
// Sin(±0) = ±0, Sin(±Inf) = NaN, Sin(NaN) = NaN.
func Sin(x float64) float64 {
	j, z, neg, special, ok := reduceOdd(x)
	if !ok {
		return special
	}
	j &= 7
	if j > 3 {
		neg = !neg
		j -= 4
	}
	zz := float64(z * z)
	var y float64
	if j == 1 || j == 2 {
		y = cosPoly(zz)
	} else {
		y = sinPoly(z, zz)
	}
	if neg {
		y = -y
	}
	return y
}

// Cos returns the cosine of x (radians), within 1 ulp for |x| < 2^29.
// Cos(±Inf) = NaN, Cos(NaN) = NaN.
func Cos(x float64) float64 {
	if x != x || math.IsInf(x, 0) {
		return math.NaN()
	}
	x = math.Abs(x)
	j, z, ok := reduce(x)
	if !ok {
		return math.NaN()
	}
	j &= 7
	neg := false
	if j > 3 {
		j -= 4
		neg = !neg
	}
	if j > 1 {
		neg = !neg
	}
	zz := float64(z * z)
	var y float64
	if j == 1 || j == 2 {
		y = sinPoly(z, zz)
	} else {
		y = cosPoly(zz)
	}
	if neg {
		y = -y
	}
	return y
}

// Sincos returns Sin(x), Cos(x) (the same bits) with one reduction.
func Sincos(x float64) (sin, cos float64) {
	switch {
	case x == 0:
		return x, 1
	case x != x || math.IsInf(x, 0):
		return math.NaN(), math.NaN()
	}
	sinNeg, cosNeg := false, false
	if x < 0 {
		x, sinNeg = -x, true
	}
	j, z, ok := reduce(x)
	if !ok {
		return math.NaN(), math.NaN()
	}
	j &= 7
	if j > 3 {
		j -= 4
		sinNeg, cosNeg = !sinNeg, !cosNeg
	}
	if j > 1 {
		cosNeg = !cosNeg
	}
	zz := float64(z * z)
	sin, cos = sinPoly(z, zz), cosPoly(zz)
	if j == 1 || j == 2 {
		sin, cos = cos, sin
	}
	if sinNeg {
		sin = -sin
	}
	if cosNeg {
		cos = -cos
	}
	return sin, cos
}

// Tan returns the tangent of x (radians), within 1 ulp for |x| < 2^29
// away from the poles. Tan(±0) = ±0, Tan(±Inf) = NaN, Tan(NaN) = NaN.
func Tan(x float64) float64 {
	var (
		tanP = [...]float64{
			-1.30936939181383777646e4,
			1.15351664838587416140e6,
			-1.79565251976484877988e7,
		}
		tanQ = [...]float64{
			1.00000000000000000000e0,
			1.36812963470692954678e4,
			-1.32089234440210967447e6,
			2.50083801823357915839e7,
			-5.38695755929454629881e7,
		}
	)
	j, z, neg, special, ok := reduceOdd(x)
	if !ok {
		return special
	}
	zz := float64(z * z)
	y := z
	if zz > 1e-14 {
		p := float64(tanP[0]*zz) + tanP[1]
		p = float64(p*zz) + tanP[2]
		q := zz + tanQ[1]
		q = float64(q*zz) + tanQ[2]
		q = float64(q*zz) + tanQ[3]
		q = float64(q*zz) + tanQ[4]
		y = z + float64(z*(float64(zz*p)/q))
	}
	if j&2 == 2 {
		y = -1 / y
	}
	if neg {
		y = -y
	}
	return y
}

// Atan returns the arctangent of x in radians: Cephes' atan, within 1 ulp.
// Atan(±0) = ±0, Atan(±Inf) = ±π/2.
func Atan(x float64) float64 {
	switch {
	case x == 0:
		return x
	case x > 0:
		return atanPos(x)
	}
	return -atanPos(-x)
}

// atanPos is Atan for x > 0 (and NaN): reduced to [0, 0.66] through
// atan x = π/2 − atan(1/x) and π/4 + atan((x−1)/(x+1)).
func atanPos(x float64) float64 {
	const (
		morebits = 6.123233995736765886130e-17 // π/2 − float64(π/2)
		tan3pio8 = 2.41421356237309504880      // tan(3π/8)
	)
	if x <= 0.66 {
		return atanKernel(x)
	}
	if x > tan3pio8 {
		return math.Pi/2 - atanKernel(1/x) + morebits
	}
	return math.Pi/4 + atanKernel((x-1)/(x+1)) + 0.5*morebits
}

// atanKernel is Cephes' rational approximation on |x| ≤ 0.66.
func atanKernel(x float64) float64 {
	const (
		p0 = -8.750608600031904122785e-01
		p1 = -1.615753718733365076637e+01
		p2 = -7.500855792314704667340e+01
		p3 = -1.228866684490136173410e+02
		p4 = -6.485021904942025371773e+01
		q0 = +2.485846490142306297962e+01
		q1 = +1.650270098316988542046e+02
		q2 = +4.328810604912902668951e+02
		q3 = +4.853903996359136964868e+02
		q4 = +1.945506571482613964425e+02
	)
	z := float64(x * x)
	p := float64(p0*z) + p1
	p = float64(p*z) + p2
	p = float64(p*z) + p3
	p = float64(p*z) + p4
	q := z + q0
	q = float64(q*z) + q1
	q = float64(q*z) + q2
	q = float64(q*z) + q3
	q = float64(q*z) + q4
	z = float64(z*p) / q
	return float64(x*z) + x
}

// Asin returns the arcsine of x in radians, within 1 ulp.
// Asin(±0) = ±0, Asin(|x| > 1) = NaN.
func Asin(x float64) float64 {
	if x == 0 {
		return x
	}
	neg := false
	if x < 0 {
		x, neg = -x, true
	}
	if x > 1 {
		return math.NaN()
	}
	t := math.Sqrt(1 - float64(x*x))
	if x > 0.7 {
		t = math.Pi/2 - atanPos(t/x)
	} else {
		t = atanPos(x / t)
	}
	if neg {
		t = -t
	}
	return t
}

// Acos returns the arccosine of x in radians: π/2 − Asin(x).
// Acos(|x| > 1) = NaN.
func Acos(x float64) float64 {
	return math.Pi/2 - Asin(x)
}
