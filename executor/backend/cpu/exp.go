package cpu

import "math"

// expCutoff is the argument below which expNeg returns 0: e^-80 ≈ 1.8e-35
// is a weight no float32 sum can see next to the row maximum (weight 1), and
// flushing it keeps float32 denormals, which are slow on x86, out of the
// weighted sum.
const expCutoff = -80

// expNeg returns e^x for x ≤ 0, rounded to float32, to within about 1e-9
// relative before that rounding (so within one float32 ulp after it). It
// is our own polynomial rather than math.Exp because math.Exp has
// architecture-specific assembly: with this one, and with every product
// wrapped in an explicit conversion so that no compiler may fuse it into an
// FMA, the same inputs give the same bits on amd64 and arm64 alike.
//
// x is reduced as x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, two-part
// ln2), e^r comes from its degree-9 Taylor polynomial (remainder
// r^10/10! < 7e-12), and 2^n is put into the exponent bits directly.
func expNeg(x float64) float32 {
	if x != x { // NaN propagates
		return float32(x)
	}
	if x < expCutoff {
		return 0
	}
	const (
		log2e = 1.44269504088896338700e+00
		ln2Hi = 6.93147180369123816490e-01 // upper bits of ln2, exact times small n
		ln2Lo = 1.90821492927058770002e-10 // ln2 − ln2Hi
	)
	// Round x·log2e to the nearest integer; x ≤ 0 so truncating
	// (x·log2e − 0.5) toward zero rounds half away from zero.
	n := int(float64(x*log2e) - 0.5)
	fn := float64(n)
	r := x - float64(fn*ln2Hi)
	r -= float64(fn * ln2Lo)
	// Horner on the Taylor coefficients 1/k!.
	p := 1.0 / 362880
	p = float64(p*r) + 1.0/40320
	p = float64(p*r) + 1.0/5040
	p = float64(p*r) + 1.0/720
	p = float64(p*r) + 1.0/120
	p = float64(p*r) + 1.0/24
	p = float64(p*r) + 1.0/6
	p = float64(p*r) + 0.5
	p = float64(p*r) + 1
	p = float64(p*r) + 1
	// n ∈ [-116, 0] here, so 2^n is a normal float64.
	return float32(p * math.Float64frombits(uint64(n+1023)<<52))
}
