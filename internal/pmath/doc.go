// Package pmath is the portable subset of the math package that the CPU
// numeric paths use: the same results, bit for bit, on every machine.
//
// The math package's elementary functions are not: its polynomials (Log1p,
// Expm1, Sin, Cos, Tan, Atan, Lgamma, ...) are plain Go that the compiler
// fuses into fused multiply-adds on arm64 always and on amd64 from
// GOAMD64=v3, and math.Exp is assembly that takes an FMA path at run time
// on amd64 CPUs with FMA and always uses FMADD on arm64, so their last bits
// depend on the machine (see hack/fma-check.sh). One flipped bit in a
// sigma, a noise value or a weight feeds through every later sampler step.
//
// Here every product whose rounding matters is rounded explicitly,
// float64(a*b) + c, which the Go spec forbids the compiler to fuse, and
// only IEEE basic operations and exact helpers (math.Frexp, math.Ldexp,
// math.Modf, math.Sqrt, math.Abs) are used. The algorithms and
// coefficients are those of fdlibm (Sun Microsystems; exp, log, log1p,
// expm1, lgamma) and Cephes (sin, cos, tan, atan), the same ones the Go
// math package implements, evaluated in the same order, so:
//
//   - on amd64 without FMA (GOAMD64=v1/v2, the default build) every function
//     except Exp and Pow returns exactly what math returns there
//     (TestMatchesMathBits; Log and Lgamma for normal inputs, where math's
//     assembly Log agrees with its fdlibm code — it does not normalise
//     subnormals, this Log does), and the accuracy is fdlibm's: < 1 ulp;
//   - Exp is fdlibm's exp (math's portable Go code path), not amd64's
//     assembly: within 1 ulp of the correctly rounded e^x (TestAccuracy,
//     against a 200-bit evaluation: off by one in 9.6% of inputs over the
//     whole range, where amd64's math.Exp is off in 13% by up to 2 ulp and
//     overflows from x ≈ 709.44); it returns other bits than amd64's math.Exp
//     for about 2% of inputs in [−16, 16] (by one ulp). Pow inherits that
//     through its fractional part;
//   - on every machine the results are the same: TestPinnedBits hashes the
//     results on a fixed input grid against testdata/bits.golden, and
//     hack/test-arm64.sh runs it as an arm64 binary, make fma-check
//     compiles the package for arm64 and amd64 v3 and finds no fused
//     instruction.
//
// Provenance: the functions follow the Go math package's implementations
// (Copyright The Go Authors, BSD-style license, the LICENSE file of the Go
// distribution) operation for operation, which is what makes them equal to
// math on amd64 v1. Those derive from FreeBSD's msun/fdlibm — "Copyright
// (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at
// SunPro, a Sun Microsystems, Inc. business. Permission to use, copy,
// modify, and distribute this software is freely granted, provided that
// this notice is preserved." — and from the Cephes Math Library (Copyright
// 1984–2000 by Stephen L. Moshier: "What you see here may be used freely
// but it comes with no support or guarantee.").
//
// Sin, Cos and Tan reduce their argument by Cody–Waite with π/4 in three
// parts, exact for |x| < 2^29; beyond that (no numeric path gets there)
// the reduction loses accuracy — still the same bits everywhere — and at
// |x| ≥ 2^62 they return NaN.
package pmath
