package pmath

import "math"

const (
	ln2Hi  = 6.93147180369123816490e-01 // ln 2, high 32 bits: k·ln2Hi is exact
	ln2Lo  = 1.90821492927058770002e-10 // ln 2 − ln2Hi
	invLn2 = 1.44269504088896338700e+00 // 1/ln 2
)

// Exp returns e^x: fdlibm's exp, within 1 ulp. Exp(+Inf) = +Inf,
// Exp(NaN) = NaN; very large x overflow to +Inf, very small underflow to 0.
func Exp(x float64) float64 {
	const (
		overflow  = 7.09782712893383973096e+02  // ln(MaxFloat64)
		underflow = -7.45133219101941108420e+02 // ln(smallest subnormal / 2)
		nearZero  = 1.0 / (1 << 28)
	)
	switch {
	case x != x:
		return x
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	// x = k·ln2 + r with |r| ≤ ln2/2, r carried as hi − lo.
	var k int
	if x < 0 {
		k = int(float64(invLn2*x) - 0.5)
	} else {
		k = int(float64(invLn2*x) + 0.5)
	}
	fk := float64(k)
	hi := x - float64(fk*ln2Hi)
	lo := float64(fk * ln2Lo)
	return expReduced(hi, lo, k)
}

// expReduced returns 2^k · e^(hi−lo) for |hi−lo| ≤ ln2/2: fdlibm's rational
// approximation e^r = 1 + 2r/(R(r²) − r), with r·c/(2−c) the remainder.
func expReduced(hi, lo float64, k int) float64 {
	const (
		p1 = 1.66666666666666657415e-01
		p2 = -2.77777777770155933842e-03
		p3 = 6.61375632143793436117e-05
		p4 = -1.65339022054652515390e-06
		p5 = 4.13813679705723846039e-08
	)
	r := hi - lo
	t := float64(r * r)
	p := float64(t*p5) + p4
	p = float64(t*p) + p3
	p = float64(t*p) + p2
	p = float64(t*p) + p1
	c := r - float64(t*p)
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	if -1022 <= k && k <= 1023 {
		// y·2^k is normal (y ∈ (0.7, 1.5)): the product by a power of two
		// is exact, as Ldexp's result is, without Ldexp's unpacking.
		return y * math.Float64frombits(uint64(k+1023)<<52)
	}
	return math.Ldexp(y, k) // the rounding into subnormals, or 2^1024
}

// Expm1 returns e^x − 1, accurate also where x is near zero: fdlibm's
// expm1, within 1 ulp. Expm1(+Inf) = +Inf, Expm1(−Inf) = −1,
// Expm1(NaN) = NaN.
func Expm1(x float64) float64 {
	const (
		othreshold = 7.09782712893383973096e+02 // beyond: +Inf
		ln2X56     = 3.88162421113569373274e+01 // 56·ln2: below −that, −1
		ln2HalfX3  = 1.03972077083991796413e+00 // 1.5·ln2
		ln2Half    = 3.46573590279972654709e-01 // 0.5·ln2
		tiny       = 1.0 / (1 << 54)
		q1         = -3.33333333333331316428e-02
		q2         = 1.58730158725481460165e-03
		q3         = -7.93650757867487942473e-05
		q4         = 4.00821782732936239552e-06
		q5         = -2.01099218183624371326e-07
	)
	switch {
	case x != x || math.IsInf(x, 1):
		return x
	case math.IsInf(x, -1):
		return -1
	}
	ax, neg := x, false
	if x < 0 {
		ax, neg = -x, true
	}
	if ax >= ln2X56 {
		if neg {
			return -1
		}
		if ax >= othreshold {
			return math.Inf(1)
		}
	}

	// Reduce: x = k·ln2 + r, r carried as x (rounded) and c (its error).
	var c float64
	var k int
	switch {
	case ax > ln2Half:
		var hi, lo float64
		switch {
		case ax < ln2HalfX3 && !neg:
			hi, lo, k = x-ln2Hi, ln2Lo, 1
		case ax < ln2HalfX3:
			hi, lo, k = x+ln2Hi, -ln2Lo, -1
		default:
			if neg {
				k = int(float64(invLn2*x) - 0.5)
			} else {
				k = int(float64(invLn2*x) + 0.5)
			}
			fk := float64(k)
			hi = x - float64(fk*ln2Hi)
			lo = float64(fk * ln2Lo)
		}
		x = hi - lo
		c = (hi - x) - lo
	case ax < tiny:
		return x
	}

	hfx := float64(0.5 * x)
	hxs := float64(x * hfx)
	r1 := float64(hxs*q5) + q4
	r1 = float64(hxs*r1) + q3
	r1 = float64(hxs*r1) + q2
	r1 = float64(hxs*r1) + q1
	r1 = 1 + float64(hxs*r1)
	t := 3 - float64(r1*hfx)
	e := float64(hxs * ((r1 - t) / (6.0 - float64(x*t))))
	if k == 0 {
		return x - (float64(x*e) - hxs)
	}
	e = float64(x*(e-c)) - c
	e -= hxs
	switch {
	case k == -1:
		return float64(0.5*(x-e)) - 0.5
	case k == 1:
		if x < -0.25 {
			return -2 * (e - (x + 0.5))
		}
		return 1 + float64(2*(x-e))
	case k <= -2 || k > 56:
		y := 1 - (e - x)
		y = math.Float64frombits(math.Float64bits(y) + uint64(k)<<52) // ·2^k
		return y - 1
	case k < 20:
		t := math.Float64frombits(0x3ff0000000000000 - (0x20000000000000 >> uint(k))) // 1 − 2^−k
		y := t - (e - x)
		return math.Float64frombits(math.Float64bits(y) + uint64(k)<<52)
	}
	t = math.Float64frombits(uint64(0x3ff-k) << 52) // 2^−k
	y := x - (e + t)
	y++
	return math.Float64frombits(math.Float64bits(y) + uint64(k)<<52)
}
