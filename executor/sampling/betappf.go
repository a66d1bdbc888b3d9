package sampling

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"
)

// BetaPPF is the quantile function (inverse CDF) of the Beta(a, b)
// distribution, scipy.stats.beta.ppf: the x in [0, 1] with I_x(a, b) = p,
// where I is the regularized incomplete beta function. It bisects on
// BetaCDF to the resolution of float64 (the CDF is monotone, so bisection
// cannot fail), which is slower than scipy's Newton–Halley iteration
// (boost ibeta_inv) but needs no starting guess.
func BetaPPF(p, a, b float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return 0
	case p == 1:
		return 1
	}
	lo, hi := 0.0, 1.0
	for i := 0; i < 200; i++ {
		mid := 0.5 * (lo + hi)
		if mid <= lo || mid >= hi {
			break
		}
		if BetaCDF(mid, a, b) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return 0.5 * (lo + hi)
}

// BetaCDF is the regularized incomplete beta function I_x(a, b), evaluated
// with the continued fraction of Abramowitz & Stegun 26.5.8 (modified Lentz
// algorithm), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) where the
// fraction converges slowly.
func BetaCDF(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la := pmath.Lgamma(a)
	lb := pmath.Lgamma(b)
	lab := pmath.Lgamma(a + b)
	front := pmath.Exp(lab - la - lb + float64(a*pmath.Log(x)) + float64(b*pmath.Log1p(-x)))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(x, a, b) / a
	}
	return 1 - front*betaCF(1-x, b, a)/b
}

// betaCF evaluates the continued fraction for I_x(a, b) by modified Lentz.
func betaCF(x, a, b float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + float64(aa*d)
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + float64(aa*d)
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := float64(d * c)
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}
