package pmath

import "math"

// The coefficients of fdlibm's log and log1p: R(s²) ≈ (log((1+s)/(1−s)) − 2s)/s.
const (
	lg1 = 6.666666666666735130e-01
	lg2 = 3.999999999940941908e-01
	lg3 = 2.857142874366239149e-01
	lg4 = 2.222219843214978396e-01
	lg5 = 1.818357216161805012e-01
	lg6 = 1.531383769920937332e-01
	lg7 = 1.479819860511658591e-01
)

// Log returns the natural logarithm of x: fdlibm's log, within 1 ulp.
// Log(+Inf) = +Inf, Log(0) = −Inf, Log(x < 0) = NaN, Log(NaN) = NaN.
func Log(x float64) float64 {
	switch {
	case x != x || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	// x = 2^k · (1+f), √2/2 ≤ 1+f < √2.
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 = float64(f1 * 2)
		ki--
	}
	f := f1 - 1
	k := float64(ki)

	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s4*lg7) + lg5
	t1 = float64(s4*t1) + lg3
	t1 = float64(s4*t1) + lg1
	t1 = float64(s2 * t1)
	t2 := float64(s4*lg6) + lg4
	t2 = float64(s4*t2) + lg2
	t2 = float64(s4 * t2)
	R := t1 + t2
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+R)) + float64(k*ln2Lo))) - f)
}

// Log1p returns log(1+x), accurate also where x is near zero: fdlibm's
// log1p, within 1 ulp. Log1p(−1) = −Inf, Log1p(x < −1) = NaN,
// Log1p(+Inf) = +Inf, Log1p(NaN) = NaN.
func Log1p(x float64) float64 {
	const (
		sqrt2M1     = 4.142135623730950488017e-01  // √2 − 1
		sqrt2HalfM1 = -2.928932188134524755992e-01 // √2/2 − 1
		small       = 1.0 / (1 << 29)
		tiny        = 1.0 / (1 << 54)
		two53       = 1 << 53
	)
	switch {
	case x < -1 || x != x:
		return math.NaN()
	case x == -1:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	ax := math.Abs(x)

	// 1+x = 2^k · u, √2/2 < u < √2, f = u − 1; c corrects the rounding of 1+x.
	var f, c float64
	var iu uint64
	k := 1
	if ax < sqrt2M1 {
		if ax < small {
			if ax < tiny {
				return x
			}
			return x - float64(float64(x*x)*0.5)
		}
		if x > sqrt2HalfM1 {
			k, f, iu = 0, x, 1
		}
	}
	if k != 0 {
		var u float64
		if ax < two53 {
			u = 1.0 + x
			iu = math.Float64bits(u)
			k = int((iu >> 52) - 1023)
			if k > 0 {
				c = 1.0 - (u - x)
			} else {
				c = x - (u - 1.0)
			}
			c /= u
		} else {
			u = x
			iu = math.Float64bits(u)
			k = int((iu >> 52) - 1023)
		}
		iu &= 0x000fffffffffffff
		if iu < 0x0006a09e667f3bcd { // mantissa of √2
			u = math.Float64frombits(iu | 0x3ff0000000000000)
		} else {
			k++
			u = math.Float64frombits(iu | 0x3fe0000000000000) // u/2
			iu = (0x0010000000000000 - iu) >> 2
		}
		f = u - 1.0
	}
	fk := float64(k)
	hfsq := float64(float64(0.5*f) * f)
	if iu == 0 { // |f| < 2^−20
		if f == 0 {
			if k == 0 {
				return 0
			}
			c += float64(fk * ln2Lo)
			return float64(fk*ln2Hi) + c
		}
		R := float64(hfsq * (1.0 - float64(0.66666666666666666*f)))
		if k == 0 {
			return f - R
		}
		return float64(fk*ln2Hi) - ((R - (float64(fk*ln2Lo) + c)) - f)
	}
	s := f / (2.0 + f)
	z := float64(s * s)
	R := float64(z*lg7) + lg6
	R = float64(z*R) + lg5
	R = float64(z*R) + lg4
	R = float64(z*R) + lg3
	R = float64(z*R) + lg2
	R = float64(z*R) + lg1
	R = float64(z * R)
	if k == 0 {
		return f - (hfsq - float64(s*(hfsq+R)))
	}
	return float64(fk*ln2Hi) - ((hfsq - (float64(s*(hfsq+R)) + (float64(fk*ln2Lo) + c))) - f)
}
