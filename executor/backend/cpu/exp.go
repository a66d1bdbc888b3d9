package cpu

import "math"

// expCutoff is the argument below which expNeg returns 0: e^-80 ≈ 1.8e-35
// is a weight no float32 sum can see next to the row maximum (weight 1), and
// flushing it keeps float32 denormals, which are slow on x86, out of the
// weighted sum.
const expCutoff = -80

// The reduction constants of expNeg and softmaxRow.
const (
	invStep = 92.33248261689366      // 64/ln2
	stepHi  = 0.01083042469326756    // ln2/64 to 32 significant bits: k·stepHi is exact
	stepLo  = 2.9815858269852933e-12 // ln2/64 − stepHi
)

// expNeg returns e^x for x ≤ 0, rounded to float32, within one float32 ulp
// (about 1e-13 relative before the final rounding). It is our own rather
// than math.Exp because math.Exp has architecture-specific assembly: this
// one uses only IEEE basic operations, with every product wrapped in an
// explicit conversion so that no compiler may fuse it into an FMA, so the
// same inputs give the same bits on amd64 and arm64 alike. It is also
// about 3× faster, which matters for the els shapes, where there is one
// exponential per 80 counted flops.
//
// x = (64n + i)·ln2/64 + r with |r| ≤ ln2/128 (two-part Cody–Waite
// constant), so e^x = 2^n · 2^(i/64) · e^r: 2^n goes into the exponent bits,
// 2^(i/64) comes from a table of correctly rounded constants, and e^r from
// its degree-4 Taylor polynomial (remainder r^5/5! < 4e-14).
func expNeg(x float64) float32 {
	if x < expCutoff {
		return 0
	}
	// A NaN x fails the test above and propagates through r below.
	// k = round(x·64/ln2); x ≤ 0, so truncating (x·64/ln2 − 0.5) toward
	// zero rounds half away from zero. k ∈ [−7387, 0].
	k := int(float64(x*invStep) - 0.5)
	fk := float64(k)
	r := x - float64(fk*stepHi)
	r -= float64(fk * stepLo)
	p := 1.0 / 24
	p = float64(p*r) + 1.0/6
	p = float64(p*r) + 0.5
	p = float64(p*r) + 1
	p = float64(p*r) + 1
	scale := math.Float64frombits(uint64((k>>6)+1023) << 52) // 2^floor(k/64)
	return float32(float64(p*exp2Frac[k&63]) * scale)
}

// softmaxRow turns one row of logits into weights (float32 values, held in
// float64; the maximum weight is exactly 1; p may be l itself) and returns
// their float64 sum.
// The loop body is expNeg written out, so that the compiler, which will not
// inline expNeg, keeps everything in registers; TestSoftmaxRowMatchesExpNeg
// holds the two to the same bits.
func softmaxRow(l, p []float64) float64 {
	p = p[:len(l)]
	m := l[0]
	for _, x := range l[1:] {
		if x > m {
			m = x
		}
	}
	var s float64
	for j, x := range l {
		x -= m
		if x < expCutoff {
			p[j] = 0
			continue
		}
		k := int(float64(x*invStep) - 0.5)
		fk := float64(k)
		r := x - float64(fk*stepHi)
		r -= float64(fk * stepLo)
		q := 1.0 / 24
		q = float64(q*r) + 1.0/6
		q = float64(q*r) + 0.5
		q = float64(q*r) + 1
		q = float64(q*r) + 1
		scale := math.Float64frombits(uint64((k>>6)+1023) << 52)
		w := float64(float32(float64(q*exp2Frac[k&63]) * scale))
		p[j] = w
		s += w
	}
	return s
}

// exp2Frac[i] = 2^(i/64), correctly rounded to float64 (computed to 60
// digits with Python's decimal module).
var exp2Frac = [64]float64{
	1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284,
	1.0442737824274138, 1.0556451783605572, 1.0671404006768237, 1.0787607977571199,
	1.0905077326652577, 1.102382583307841, 1.1143867425958924, 1.1265216186082418,
	1.1387886347566916, 1.1511892299529827, 1.1637248587775775, 1.1763969916502812,
	1.189207115002721, 1.202156731452703, 1.215247359980469, 1.22848053610687,
	1.241857812073484, 1.255380757024691, 1.2690509571917332, 1.2828700160787783,
	1.2968395546510096, 1.3109612115247644, 1.3252366431597413, 1.339667524053303,
	1.3542555469368927, 1.3690024229745905, 1.383909881963832, 1.3989796725383112,
	1.4142135623730951, 1.42961333839197, 1.4451808069770467, 1.460917794180647,
	1.4768261459394993, 1.4929077282912648, 1.5091644275934228, 1.5255981507445384,
	1.5422108254079407, 1.559004400237837, 1.5759808451078865, 1.593142151342267,
	1.6104903319492543, 1.6280274218573478, 1.645755478153965, 1.6636765803267364,
	1.681792830507429, 1.7001063537185235, 1.718619298122478, 1.7373338352737062,
	1.7562521603732995, 1.7753764925265212, 1.7947090750031072, 1.8142521755003989,
	1.8340080864093424, 1.8539791250833855, 1.8741676341103, 1.8945759815869656,
	1.9152065613971474, 1.9360617934922943, 1.9571441241754002, 1.978456026387951,
}
