package pmath

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
)

// fn is one function under test next to math's.
type fn struct {
	name string
	got  func(float64) float64
	want func(float64) float64
	// in draws the random inputs: the function's whole useful domain.
	in func(r *rand.Rand) float64
	// fused is the largest difference from math allowed where the compiler
	// fuses math's Go code (arm64, GOAMD64=v3): math is then itself off by
	// up to about an ulp, so the two may differ by more than one. 0 means 1.
	// Measured maxima (arm64 under qemu; amd64 v3 smaller): Tan 2, Pow 7;
	// Asin 25 and Acos 6400 near |x| = 1, where 1 − x·x cancels and the
	// fused math.Asin rounds it once, not twice: an absolute difference of
	// about 5e-15 (Acos(0.99999) ≈ 0.005), this package being as accurate
	// as math is on amd64.
	fused float64
}

// minNormal is the smallest normal float64.
const minNormal = 2.2250738585072014e-308

// mathLog is math.Log made right for subnormal x: amd64's math.Log
// assembly does not normalise them (math.Log(5e-324) = −709.09, not
// −744.44); this one scales by 2^54 first (within 1 ulp there).
func mathLog(x float64) float64 {
	if x > 0 && x < minNormal {
		return math.Log(x*(1<<54)) - 54*math.Ln2
	}
	return math.Log(x)
}

func lgammaMath(x float64) float64 {
	if x > 0 && x < minNormal {
		return -mathLog(x) // math.Lgamma has the same subnormal problem
	}
	v, _ := math.Lgamma(x)
	return v
}

// anyFloat draws a float64 whose bits are random: every exponent alike,
// subnormals, infinities and NaNs included.
func anyFloat(r *rand.Rand) float64 { return math.Float64frombits(r.Uint64()) }

// logUniform draws |x| = m·2^e, m uniform in [1, 2), e uniform in [lo, hi),
// with random sign when signed. The generators use exact operations only
// (no product the compiler could fuse) so the grid of TestPinnedBits is the
// same on every machine.
func logUniform(lo, hi int, signed bool) func(r *rand.Rand) float64 {
	return func(r *rand.Rand) float64 {
		x := math.Ldexp(1+r.Float64(), lo+r.IntN(hi-lo))
		if signed && r.IntN(2) == 0 {
			x = -x
		}
		return x
	}
}

func uniform(lo, hi float64) func(r *rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return float64((hi-lo)*r.Float64()) + lo }
}

var fns = []fn{
	{"Exp", Exp, bigExp, uniform(-750, 712), 0},
	{"Exp/small", Exp, bigExp, logUniform(-60, 3, true), 0},
	{"Expm1", Expm1, math.Expm1, uniform(-50, 712), 0},
	{"Expm1/small", Expm1, math.Expm1, logUniform(-60, 3, true), 0},
	{"Log", Log, mathLog, anyFloat, 0},
	{"Log/near1", Log, mathLog, uniform(0.5, 2), 0},
	{"Log1p", Log1p, math.Log1p, anyFloat, 0},
	{"Log1p/small", Log1p, math.Log1p, logUniform(-60, 0, true), 0},
	{"Sin", Sin, math.Sin, uniform(-100, 100), 0},
	{"Sin/small", Sin, math.Sin, logUniform(-40, 29, true), 0},
	{"Cos", Cos, math.Cos, uniform(-100, 100), 0},
	{"Cos/small", Cos, math.Cos, logUniform(-40, 29, true), 0},
	{"Tan", Tan, math.Tan, uniform(-10, 10), 2},
	{"Atan", Atan, math.Atan, anyFloat, 0},
	{"Atan/mid", Atan, math.Atan, uniform(-4, 4), 0},
	{"Asin", Asin, math.Asin, uniform(-1, 1), 32},
	{"Acos", Acos, math.Acos, uniform(-1, 1), 8192},
	{"Lgamma", Lgamma, lgammaMath, logUniform(-80, 70, false), 0},
	{"Lgamma/mid", Lgamma, lgammaMath, uniform(0, 10), 0},
	{"Pow/x", func(x float64) float64 { return Pow(x, 1/7.0) }, func(x float64) float64 { return math.Pow(x, 1/7.0) }, logUniform(-1000, 1000, false), 8},
	{"Pow/rho", func(x float64) float64 { return Pow(x, 7) }, func(x float64) float64 { return math.Pow(x, 7) }, logUniform(-100, 100, true), 0},
}

// edges are the special and threshold inputs every function is asked about.
var edges = []float64{
	0, math.Copysign(0, -1), 1, -1, 2, 0.5, -0.5, math.Inf(1), math.Inf(-1), math.NaN(),
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 2.2250738585072014e-308, // smallest normal
	2.225073858507201e-308, math.MaxFloat64, -math.MaxFloat64,
	7.09782712893383973096e+02, 7.097827128933841e+02, -7.45133219101941108420e+02, -7.451332191019412e+02, // exp overflow/underflow
	-708.3964185322641, -745.1, 709.7, 38.816242111356935, -38.816242111356935, // subnormal results, expm1's 56·ln2
	0.34657359027997264, 1.0397207708399179, 1.0 / (1 << 28), -1.0 / (1 << 28), 1.0 / (1 << 54), 1.0 / (1 << 29),
	0.4142135623730950, -0.2928932188134524, -0.9999999999999999, 1e300, 1e-300,
	math.Pi, math.Pi / 2, math.Pi / 4, 3 * math.Pi / 4, 1 << 28, (1 << 29) - 1, 0.66, 2.414213562373095, 0.7,
	1.461632144968362245, 0.2316, 0.7316, 0.9, 1.2316, 1.7316, 8, 1 << 58, 1.0 / (1 << 70),
}

// ulps returns the distance of a from b in units in the last place (0 when
// both are the same NaN class or the same infinity; a large number when one
// is special and the other not).
func ulps(a, b float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		if math.IsNaN(a) && math.IsNaN(b) {
			return 0
		}
		return math.Inf(1)
	case a == b:
		return 0
	case math.IsInf(a, 0) || math.IsInf(b, 0):
		return math.Inf(1)
	}
	// Ordered integer images of the floats: adjacent floats differ by 1.
	ord := func(x float64) int64 {
		i := int64(math.Float64bits(x))
		if i < 0 {
			i = math.MinInt64 - i
		}
		return i
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return float64(d)
}

const nRandom = 200000

// bigExp returns e^x correctly rounded, from a 200-bit evaluation: the
// reference for Exp, since amd64's math.Exp assembly is itself off by up
// to 2 ulp for large |x| and overflows early (from x ≈ 709.44).
func bigExp(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return x
	case x > 710:
		return math.Inf(1)
	case x < -746:
		return 0
	}
	const prec = 200
	// e^x = (e^(x/2^m))^(2^m) with |x/2^m| < 2^-10; Taylor series for e^r.
	m := 0
	for math.Abs(math.Ldexp(x, -m)) >= 1.0/1024 {
		m++
	}
	r := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(x).SetPrec(prec), -m)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := int64(1); n < 40; n++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(n))
		sum.Add(sum, term)
	}
	for range m {
		sum.Mul(sum, sum)
	}
	v, _ := sum.Float64()
	return v
}

// TestAccuracy holds every function within 1 ulp of math's on the edge
// inputs and on nRandom random inputs per domain (Exp: within 1 ulp of the
// correctly rounded e^x, from bigExp; Pow: within 2 of math.Pow, see below;
// Lgamma: 1e-15 absolute or relative; where math is itself fused, the
// fn's fused bound), and logs the largest difference and how often there
// is one:
//
//	go test ./internal/pmath -run Accuracy -v
//
// On amd64 without FMA every function but Exp and Pow equals math exactly
// (TestMatchesMathBits). Pow computes x^yf as
// Exp(yf·Log x): for |yf·log x| of hundreds the ulp of the product is
// itself many ulps of the result, in math.Pow as here, so the two may
// differ by a little more where the result is huge or tiny.
func TestAccuracy(t *testing.T) {
	t.Parallel()
	for _, f := range fns {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			limit := 1.0
			if strings.HasPrefix(f.name, "Pow") {
				limit = 2
			}
			if mathFused && f.fused != 0 {
				limit = f.fused
			}
			if f.name == "Lgamma/mid" || f.name == "Lgamma" {
				// Near lgamma's zeros (1 and 2) the result is tiny and fused
				// and unfused evaluations differ by many ulps of it: held
				// to an absolute bound below instead.
				limit = math.Inf(1)
			}
			var worst, worstX, mathWorst float64
			differ, total, mathDiffer, mathInf, vsMath := 0, 0, 0, 0, 0
			isExp := f.name == "Exp" || f.name == "Exp/small"
			check := func(x float64) {
				total++
				g, w := f.got(x), f.want(x)
				if f.name == "Lgamma" || f.name == "Lgamma/mid" {
					// Absolute error instead: 1e-15 of max(1, |value|).
					if d := math.Abs(g - w); d > 1e-15*math.Max(1, math.Abs(w)) {
						t.Errorf("%s(%v) = %v, math: %v", f.name, x, g, w)
					}
				}
				d := ulps(g, w)
				if d > 0 {
					differ++
				}
				if d > worst {
					worst, worstX = d, x
				}
				if d > limit {
					t.Errorf("%s(%v) = %v, math: %v (%v ulp)", f.name, x, g, w, d)
				}
				if isExp && !math.IsInf(w, 0) {
					// For the record: math.Exp against the same reference.
					if m := math.Exp(x); math.Float64bits(m) != math.Float64bits(g) {
						vsMath++
					}
					switch m := math.Exp(x); {
					case math.IsInf(m, 0):
						mathInf++
					case ulps(m, w) > 0:
						mathDiffer++
						mathWorst = math.Max(mathWorst, ulps(m, w))
					}
				}
			}
			skip := func(x float64) bool {
				switch {
				case strings.HasPrefix(f.name, "Lgamma"):
					return x < 0 // Lgamma is for x > 0 only
				case strings.HasPrefix(f.name, "Sin"), strings.HasPrefix(f.name, "Cos"), f.name == "Tan":
					return math.Abs(x) >= 1<<29 // beyond the documented range
				case strings.HasPrefix(f.name, "Pow"):
					return x != 0 && math.Abs(x) < minNormal // math.Pow inherits math.Log's subnormal bug
				}
				return false
			}
			for _, x := range edges {
				if !skip(x) {
					check(x)
				}
			}
			r := rand.New(rand.NewPCG(1, uint64(len(f.name))))
			n := nRandom
			if strings.HasPrefix(f.name, "Exp") && !strings.HasPrefix(f.name, "Expm1") {
				n = nRandom / 10 // the 200-bit reference is slow
			}
			if testing.Short() {
				n /= 10 // under emulation (hack/test-arm64.sh)
			}
			for range n {
				if x := f.in(r); !skip(x) {
					check(x)
				}
			}
			t.Logf("%-12s max %v ulp (at %v), %d of %d inputs differ from the reference", f.name, worst, worstX, differ, total)
			if isExp {
				t.Logf("%-12s math.Exp on the same inputs: max %v ulp, %d differ, %d +Inf for a finite e^x; %d differ from Exp", f.name, mathWorst, mathDiffer, mathInf, vsMath)
			}
		})
	}
}

// TestSpecialCases pins the IEEE special cases exactly (a NaN for a NaN, the
// sign of a zero, the infinities), independently of math.
func TestSpecialCases(t *testing.T) {
	t.Parallel()
	inf, nan, negZero := math.Inf(1), math.NaN(), math.Copysign(0, -1)
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"Exp(+Inf)", Exp(inf), inf}, {"Exp(-Inf)", Exp(-inf), 0}, {"Exp(NaN)", Exp(nan), nan},
		{"Exp(0)", Exp(0), 1}, {"Exp(710)", Exp(710), inf}, {"Exp(-746)", Exp(-746), 0},
		{"Exp(-745)", Exp(-745), math.SmallestNonzeroFloat64},
		{"Expm1(+Inf)", Expm1(inf), inf}, {"Expm1(-Inf)", Expm1(-inf), -1}, {"Expm1(NaN)", Expm1(nan), nan},
		{"Expm1(-0)", Expm1(negZero), negZero}, {"Expm1(-40)", Expm1(-40), -1},
		{"Log(0)", Log(0), -inf}, {"Log(-0)", Log(negZero), -inf}, {"Log(-1)", Log(-1), nan},
		{"Log(+Inf)", Log(inf), inf}, {"Log(NaN)", Log(nan), nan}, {"Log(1)", Log(1), 0},
		{"Log(min subnormal)", Log(math.SmallestNonzeroFloat64), -744.4400719213812},
		{"Log1p(-1)", Log1p(-1), -inf}, {"Log1p(-2)", Log1p(-2), nan}, {"Log1p(+Inf)", Log1p(inf), inf},
		{"Log1p(-0)", Log1p(negZero), negZero}, {"Log1p(NaN)", Log1p(nan), nan},
		{"Sin(-0)", Sin(negZero), negZero}, {"Sin(Inf)", Sin(inf), nan}, {"Sin(NaN)", Sin(nan), nan},
		{"Sin(2^63)", Sin(1 << 63), nan},
		{"Cos(0)", Cos(0), 1}, {"Cos(-Inf)", Cos(-inf), nan},
		{"Tan(-0)", Tan(negZero), negZero}, {"Tan(Inf)", Tan(inf), nan},
		{"Atan(-0)", Atan(negZero), negZero}, {"Atan(+Inf)", Atan(inf), math.Pi / 2}, {"Atan(-Inf)", Atan(-inf), -math.Pi / 2},
		{"Asin(1)", Asin(1), math.Pi / 2}, {"Asin(1.5)", Asin(1.5), nan}, {"Acos(1)", Acos(1), 0}, {"Acos(-1)", Acos(-1), math.Pi},
		{"Lgamma(0)", Lgamma(0), inf}, {"Lgamma(1)", Lgamma(1), 0}, {"Lgamma(2)", Lgamma(2), 0},
		{"Lgamma(-1.5)", Lgamma(-1.5), nan}, {"Lgamma(+Inf)", Lgamma(inf), inf}, {"Lgamma(4)", Lgamma(4), math.Log(6)},
		{"Pow(2, 10)", Pow(2, 10), 1024}, {"Pow(-0, -3)", Pow(negZero, -3), -inf}, {"Pow(-8, 1/3)", Pow(-8, 1.0/3), nan},
		{"Pow(-1, Inf)", Pow(-1, inf), 1}, {"Pow(0.5, Inf)", Pow(0.5, inf), 0}, {"Pow(-Inf, 3)", Pow(-inf, 3), -inf},
		{"Pow(9, 0.5)", Pow(9, 0.5), 3}, {"Pow(2, -1074)", Pow(2, -1074), math.SmallestNonzeroFloat64},
		{"Pow(10, 400)", Pow(10, 400), inf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if math.Float64bits(tt.got) != math.Float64bits(tt.want) && !(math.IsNaN(tt.got) && math.IsNaN(tt.want)) {
				t.Errorf("got %v (%#x), want %v (%#x)", tt.got, math.Float64bits(tt.got), tt.want, math.Float64bits(tt.want))
			}
		})
	}
}

// TestSincosIsSinAndCos: Sincos returns Sin's and Cos's bits.
func TestSincosIsSinAndCos(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	in := append([]float64{}, edges...)
	for range 100000 {
		in = append(in, uniform(-100, 100)(r), logUniform(-40, 64, true)(r))
	}
	for _, x := range in {
		s, c := Sincos(x)
		ws, wc := Sin(x), Cos(x)
		if math.Float64bits(s) != math.Float64bits(ws) && !(math.IsNaN(s) && math.IsNaN(ws)) ||
			math.Float64bits(c) != math.Float64bits(wc) && !(math.IsNaN(c) && math.IsNaN(wc)) {
			t.Fatalf("Sincos(%v) = %v, %v; Sin, Cos: %v, %v", x, s, c, ws, wc)
		}
	}
}

// gridHash hashes f's results on a fixed grid: nGrid inputs from a seeded
// generator in f's domain, then the edge inputs.
func gridHash(f fn) string {
	const nGrid = 50000
	h := sha256.New()
	var b [8]byte
	put := func(x float64) {
		v := f.got(x)
		if math.IsNaN(v) {
			v = math.NaN() // one NaN payload
		}
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	r := rand.New(rand.NewPCG(7, 7))
	for range nGrid {
		put(f.in(r))
	}
	for _, x := range edges {
		put(x)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestPinnedBits pins the results' bits on a fixed input grid per
// function: the same file on every GOARCH and GOAMD64 level
// (hack/test-arm64.sh runs this as an arm64 binary; GOAMD64=v3 go test
// runs it with the compiler free to fuse). Regenerate only for a deliberate
// change of the algorithms:
//
//	go test ./internal/pmath -run PinnedBits -update
func TestPinnedBits(t *testing.T) {
	t.Parallel()
	var lines []string
	for _, f := range fns {
		lines = append(lines, fmt.Sprintf("%s %s", f.name, gridHash(f)))
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "bits.golden")
	want := testutil.ReadGolden(t, path, []byte(got), "go test ./internal/pmath -run PinnedBits -update")
	if got != string(want) {
		t.Errorf("bits differ from %s:\ngot:\n%swant:\n%s", path, got, want)
	}
}

// sink keeps the benchmarks' results alive.
var sink float64

// BenchmarkFunctions times each function next to math's on the same
// inputs (ns per call):
//
//	go test -run '^$' -bench Functions ./internal/pmath
func BenchmarkFunctions(b *testing.B) {
	in := make([]float64, 1024)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range in {
		in[i] = float64(-20*r.Float64()) + 0.1
	}
	pos := make([]float64, len(in))
	for i, x := range in {
		pos[i] = math.Abs(x)
	}
	for _, bm := range []struct {
		name string
		f    func(float64) float64
		in   []float64
	}{
		{"Exp/pmath", Exp, in}, {"Exp/math", math.Exp, in},
		{"Expm1/pmath", Expm1, in}, {"Expm1/math", math.Expm1, in},
		{"Log/pmath", Log, pos}, {"Log/math", math.Log, pos},
		{"Log1p/pmath", Log1p, pos}, {"Log1p/math", math.Log1p, pos},
		{"Sin/pmath", Sin, in}, {"Sin/math", math.Sin, in},
		{"Pow/pmath", func(x float64) float64 { return Pow(x, 1/7.0) }, pos},
		{"Pow/math", func(x float64) float64 { return math.Pow(x, 1/7.0) }, pos},
	} {
		b.Run(bm.name, func(b *testing.B) {
			var s float64
			for i := range b.N {
				s += bm.f(bm.in[i&1023])
			}
			sink = s
		})
	}
}
