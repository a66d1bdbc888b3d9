//go:build !purego

#include "textflag.h"

// NEON (Advanced SIMD) kernels of the SIMD attention path (simd.go). Lanes
// are query rows, as in simd_amd64.s: a panel of 8 rows is four 2×float64
// registers, and every lane does exactly the scalar sequence of the pure-Go
// kernels (simd.go has the argument). The products that are fused (FMLA)
// are products of two float32 values, exact in float64, as in the pure-Go
// madd (an FMA on arm64); every other product is rounded on its own.
//
// The Go assembler has no mnemonics for the vector floating-point
// arithmetic and conversions below, so they are written as WORDs through
// these macros, register numbers as arguments; each encoding is the
// architecture's (Arm ARM, "Advanced SIMD"), checked by disassembling the
// test binary (go tool objdump knows them all) and by the bit tests under
// qemu-aarch64 (hack/test-arm64.sh).

// Vd.2D = Vn.2D + Vm.2D
#define FADD2D(d, n, m) WORD $(0x4e60d400 | ((m)<<16) | ((n)<<5) | (d))
// Vd.2D = Vn.2D − Vm.2D
#define FSUB2D(d, n, m) WORD $(0x4ee0d400 | ((m)<<16) | ((n)<<5) | (d))
// Vd.2D = Vn.2D · Vm.2D (rounded)
#define FMUL2D(d, n, m) WORD $(0x6e60dc00 | ((m)<<16) | ((n)<<5) | (d))
// Vd.2D = Vn.2D > Vm.2D ? all ones : 0 (false for NaN)
#define FCMGT2D(d, n, m) WORD $(0x6ee0e400 | ((m)<<16) | ((n)<<5) | (d))
// Vd.2D = float64(Vn.2S), exact
#define FCVTL2D(d, n) WORD $(0x0e617800 | ((n)<<5) | (d))
// Vd.2D = float64(Vn.4S[2:4]), exact
#define FCVTL2_2D(d, n) WORD $(0x4e617800 | ((n)<<5) | (d))
// Vd.2S = float32(Vn.2D), rounded to nearest even (FPCR default), upper half zeroed
#define FCVTN2S(d, n) WORD $(0x0e616800 | ((n)<<5) | (d))
// Vd.2D = int64(Vn.2D), toward zero, as Go's int(x) on arm64
#define FCVTZS2D(d, n) WORD $(0x4ee1b800 | ((n)<<5) | (d))
// Vd.2D = float64(int64 Vn.2D)
#define SCVTF2D(d, n) WORD $(0x4e61d800 | ((n)<<5) | (d))
// Vd.2D = int64 Vn.2D >> 6 (arithmetic)
#define SSHR6_2D(d, n) WORD $(0x4f7a0400 | ((n)<<5) | (d))
// Vd.2D += Vn.2D · Vm.D[i] (fused; used on exact products only)
#define FMLAE2D(d, n, m, i) WORD $(0x4fc01000 | ((m)<<16) | ((i)<<11) | ((n)<<5) | (d))

// func logitsNEON(q *float64, d int, k *float64, ngroups int, kc, qn *float64, invV float64, l *float64)
//
// For ngroups groups of 4 keys (rows of k, stride d float64 values holding
// float32 values) and the
// 8 query rows of the panel q ([d][8] float64), writes the logits
// dot·invV − (qn + kc[j]) to l ([4·ngroups][8]). Each dot product sums
// t = 0…d−1 in order into one lane, from zero.
TEXT ·logitsNEON(SB), NOSPLIT, $0-64
	MOVD q+0(FP), R0
	MOVD d+8(FP), R1
	MOVD k+16(FP), R2
	MOVD ngroups+24(FP), R3
	MOVD kc+32(FP), R4
	MOVD qn+40(FP), R5
	FMOVD invV+48(FP), F28
	MOVD l+56(FP), R6
	VDUP V28.D[0], V28.D2
	LSL $3, R1, R7          // key row stride in bytes
	VLD1 (R5), [V24.D2, V25.D2, V26.D2, V27.D2]
	CBZ R3, ldone

lgroup:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	MOVD R0, R8
	MOVD R2, R9
	ADD R7, R9, R10
	ADD R7, R10, R11
	ADD R7, R11, R12
	MOVD R1, R13
	CBZ R13, lfinish

linner:
	VLD1.P 64(R8), [V16.D2, V17.D2, V18.D2, V19.D2]
	VLD1R.P 8(R9), [V20.D2]
	VLD1R.P 8(R10), [V21.D2]
	VLD1R.P 8(R11), [V22.D2]
	VLD1R.P 8(R12), [V23.D2]
	VFMLA V20.D2, V16.D2, V0.D2
	VFMLA V20.D2, V17.D2, V1.D2
	VFMLA V20.D2, V18.D2, V2.D2
	VFMLA V20.D2, V19.D2, V3.D2
	VFMLA V21.D2, V16.D2, V4.D2
	VFMLA V21.D2, V17.D2, V5.D2
	VFMLA V21.D2, V18.D2, V6.D2
	VFMLA V21.D2, V19.D2, V7.D2
	VFMLA V22.D2, V16.D2, V8.D2
	VFMLA V22.D2, V17.D2, V9.D2
	VFMLA V22.D2, V18.D2, V10.D2
	VFMLA V22.D2, V19.D2, V11.D2
	VFMLA V23.D2, V16.D2, V12.D2
	VFMLA V23.D2, V17.D2, V13.D2
	VFMLA V23.D2, V18.D2, V14.D2
	VFMLA V23.D2, V19.D2, V15.D2
	SUBS $1, R13, R13
	BNE linner

lfinish:
// LOGIT(a0, a1, a2, a3): the 8 logits of the next key from its dot
// products in V<a0>…V<a3>, in place: dot·invV − (qn + kc).
#define LOGIT(a0, a1, a2, a3) \
	VLD1R.P 8(R4), [V29.D2]; \
	FADD2D(16, 24, 29); \
	FADD2D(17, 25, 29); \
	FADD2D(18, 26, 29); \
	FADD2D(19, 27, 29); \
	FMUL2D(a0, a0, 28); \
	FMUL2D(a1, a1, 28); \
	FMUL2D(a2, a2, 28); \
	FMUL2D(a3, a3, 28); \
	FSUB2D(a0, a0, 16); \
	FSUB2D(a1, a1, 17); \
	FSUB2D(a2, a2, 18); \
	FSUB2D(a3, a3, 19)

	LOGIT(0, 1, 2, 3)
	LOGIT(4, 5, 6, 7)
	LOGIT(8, 9, 10, 11)
	LOGIT(12, 13, 14, 15)
	VST1.P [V0.D2, V1.D2, V2.D2, V3.D2], 64(R6)
	VST1.P [V4.D2, V5.D2, V6.D2, V7.D2], 64(R6)
	VST1.P [V8.D2, V9.D2, V10.D2, V11.D2], 64(R6)
	VST1.P [V12.D2, V13.D2, V14.D2, V15.D2], 64(R6)
	ADD R7<<2, R2, R2
	SUBS $1, R3, R3
	BNE lgroup

ldone:
	RET

// func softmaxNEON(l *float64, nk int, sum *float64)
//
// The two-pass softmax of softmaxRow for the 8 rows of a panel of logits
// l ([nk][8], nk ≥ 1), in place; the 8 weight sums go to sum.
TEXT ·softmaxNEON(SB), NOSPLIT, $0-24
	MOVD l+0(FP), R0
	MOVD nk+8(FP), R1
	MOVD sum+16(FP), R2
	MOVD $·exp2Frac(SB), R3
	VLD1 (R0), [V0.D2, V1.D2, V2.D2, V3.D2]
	ADD $64, R0, R4
	SUBS $1, R1, R5
	BLE smaxdone

smax:
	// m = x > m ? x : m, as softmaxRow's "if x > m" (NaN never wins).
	VLD1.P 64(R4), [V4.D2, V5.D2, V6.D2, V7.D2]
	FCMGT2D(8, 4, 0)
	FCMGT2D(9, 5, 1)
	FCMGT2D(10, 6, 2)
	FCMGT2D(11, 7, 3)
	VBIT V8.B16, V4.B16, V0.B16
	VBIT V9.B16, V5.B16, V1.B16
	VBIT V10.B16, V6.B16, V2.B16
	VBIT V11.B16, V7.B16, V3.B16
	SUBS $1, R5, R5
	BNE smax

smaxdone:
	VMOVQ $0xc054000000000000, $0xc054000000000000, V12 // cutoff
	VMOVQ $0x40571547652b82fe, $0x40571547652b82fe, V13 // invStep
	VMOVQ $0x3fe0000000000000, $0x3fe0000000000000, V14 // half
	VMOVQ $0x3f862e42fee00000, $0x3f862e42fee00000, V15 // stepHi
	VMOVQ $0x3d8a39ef35793c76, $0x3d8a39ef35793c76, V16 // stepLo
	VMOVQ $0x3fa5555555555555, $0x3fa5555555555555, V17 // 1/24
	VMOVQ $0x3fc5555555555555, $0x3fc5555555555555, V18 // 1/6
	VMOVQ $0x3ff0000000000000, $0x3ff0000000000000, V19 // one
	VMOVQ $1023, $1023, V20                              // exponent bias
	VEOR V21.B16, V21.B16, V21.B16                      // +0
	VEOR V4.B16, V4.B16, V4.B16                         // the sums
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	MOVD R0, R4

// EXP2(M, S): 2 lanes of softmaxRow's loop body, the logits at (R4) and
// their maximum in V<M>; the weights go back to (R4), R4 advances by 16,
// and they are added to V<S>. Temporaries V26–V31, R5, R6.
#define EXP2(M, S) \
	VLD1 (R4), [V26.D2]; \
	FSUB2D(26, 26, M); \
	FCMGT2D(27, 12, 26); \
	FMUL2D(28, 26, 13); \
	FSUB2D(28, 28, 14); \
	FCVTZS2D(28, 28); \
	VMOV V28.D[0], R5; \
	AND $63, R5, R5; \
	FMOVD (R3)(R5<<3), F29; \
	VMOV V28.D[1], R6; \
	AND $63, R6, R6; \
	ADD R6<<3, R3, R6; \
	VLD1 (R6), V29.D[1]; \
	SCVTF2D(30, 28); \
	SSHR6_2D(28, 28); \
	VADD V20.D2, V28.D2, V28.D2; \
	VSHL $52, V28.D2, V28.D2; \
	FMUL2D(31, 30, 15); \
	FSUB2D(26, 26, 31); \
	FMUL2D(31, 30, 16); \
	FSUB2D(26, 26, 31); \
	FMUL2D(30, 17, 26); \
	FADD2D(30, 30, 18); \
	FMUL2D(30, 30, 26); \
	FADD2D(30, 30, 14); \
	FMUL2D(30, 30, 26); \
	FADD2D(30, 30, 19); \
	FMUL2D(30, 30, 26); \
	FADD2D(30, 30, 19); \
	FMUL2D(30, 30, 29); \
	FMUL2D(30, 30, 28); \
	FCVTN2S(30, 30); \
	FCVTL2D(30, 30); \
	VBIT V27.B16, V21.B16, V30.B16; \
	FADD2D(S, S, 30); \
	VST1.P [V30.D2], 16(R4)

sexp:
	EXP2(0, 4)
	EXP2(1, 5)
	EXP2(2, 6)
	EXP2(3, 7)
	SUBS $1, R1, R1
	BNE sexp

	VST1 [V4.D2, V5.D2, V6.D2, V7.D2], (R2)
	RET

// func pvNEON(p *float64, nk int, v *float64, ldv int, acc *float64)
//
// acc[c][r] += Σ_j p[j][r]·v[j·ldv+c] for the 4 columns c of v and the 8
// rows r of the panel of weights p ([nk][8]), j in order; acc is [4][8].
TEXT ·pvNEON(SB), NOSPLIT, $0-40
	MOVD p+0(FP), R0
	MOVD nk+8(FP), R1
	MOVD v+16(FP), R2
	MOVD ldv+24(FP), R3
	LSL $3, R3, R3
	MOVD acc+32(FP), R4
	MOVD R4, R5
	VLD1.P 64(R5), [V0.D2, V1.D2, V2.D2, V3.D2]
	VLD1.P 64(R5), [V4.D2, V5.D2, V6.D2, V7.D2]
	VLD1.P 64(R5), [V8.D2, V9.D2, V10.D2, V11.D2]
	VLD1 (R5), [V12.D2, V13.D2, V14.D2, V15.D2]
	CBZ R1, pstore

ploop:
	VLD1.P 64(R0), [V16.D2, V17.D2, V18.D2, V19.D2]
	MOVD R2, R6
	VLD1R.P 8(R6), [V20.D2]
	VLD1R.P 8(R6), [V21.D2]
	VLD1R.P 8(R6), [V22.D2]
	VLD1R (R6), [V23.D2]
	ADD R3, R2, R2
	VFMLA V20.D2, V16.D2, V0.D2
	VFMLA V20.D2, V17.D2, V1.D2
	VFMLA V20.D2, V18.D2, V2.D2
	VFMLA V20.D2, V19.D2, V3.D2
	VFMLA V21.D2, V16.D2, V4.D2
	VFMLA V21.D2, V17.D2, V5.D2
	VFMLA V21.D2, V18.D2, V6.D2
	VFMLA V21.D2, V19.D2, V7.D2
	VFMLA V22.D2, V16.D2, V8.D2
	VFMLA V22.D2, V17.D2, V9.D2
	VFMLA V22.D2, V18.D2, V10.D2
	VFMLA V22.D2, V19.D2, V11.D2
	VFMLA V23.D2, V16.D2, V12.D2
	VFMLA V23.D2, V17.D2, V13.D2
	VFMLA V23.D2, V18.D2, V14.D2
	VFMLA V23.D2, V19.D2, V15.D2
	SUBS $1, R1, R1
	BNE ploop

pstore:
	VST1.P [V0.D2, V1.D2, V2.D2, V3.D2], 64(R4)
	VST1.P [V4.D2, V5.D2, V6.D2, V7.D2], 64(R4)
	VST1.P [V8.D2, V9.D2, V10.D2, V11.D2], 64(R4)
	VST1 [V12.D2, V13.D2, V14.D2, V15.D2], (R4)
	RET

// func axpy2NEON(p0, p1 float64, v *float32, n int, o0, o1 *float64)
//
// o0[c] += p0·v[c] and o1[c] += p1·v[c] for c < n, n a multiple of 4:
// axpy2 with lanes = columns (each o[c] gets the same single exact
// product and rounded add as in axpy2).
TEXT ·axpy2NEON(SB), NOSPLIT, $0-48
	FMOVD p0+0(FP), F28
	FMOVD p1+8(FP), F29
	VDUP V28.D[0], V28.D2
	VDUP V29.D[0], V29.D2
	MOVD v+16(FP), R0
	MOVD n+24(FP), R1
	MOVD o0+32(FP), R2
	MOVD o1+40(FP), R3
	LSR $2, R1, R1
	CBZ R1, a2done

a2loop:
	VLD1.P 16(R0), [V0.S4]
	FCVTL2D(1, 0)
	FCVTL2_2D(2, 0)
	VLD1 (R2), [V3.D2, V4.D2]
	VLD1 (R3), [V5.D2, V6.D2]
	VFMLA V28.D2, V1.D2, V3.D2
	VFMLA V28.D2, V2.D2, V4.D2
	VFMLA V29.D2, V1.D2, V5.D2
	VFMLA V29.D2, V2.D2, V6.D2
	VST1.P [V3.D2, V4.D2], 32(R2)
	VST1.P [V5.D2, V6.D2], 32(R3)
	SUBS $1, R1, R1
	BNE a2loop

a2done:
	RET

// func axpy4NEON(p *[4]float64, v *float32, n int, o0, o1, o2, o3 *float64)
//
// axpy2NEON for four weight rows, n a multiple of 4: V is read and widened
// once for all four.
TEXT ·axpy4NEON(SB), NOSPLIT, $0-56
	MOVD p+0(FP), R0
	VLD1R.P 8(R0), [V28.D2]
	VLD1R.P 8(R0), [V29.D2]
	VLD1R.P 8(R0), [V30.D2]
	VLD1R (R0), [V31.D2]
	MOVD v+8(FP), R0
	MOVD n+16(FP), R1
	MOVD o0+24(FP), R2
	MOVD o1+32(FP), R3
	MOVD o2+40(FP), R4
	MOVD o3+48(FP), R5
	LSR $2, R1, R1
	CBZ R1, a4done

a4loop:
	VLD1.P 16(R0), [V0.S4]
	FCVTL2D(1, 0)
	FCVTL2_2D(2, 0)
	VLD1 (R2), [V3.D2, V4.D2]
	VLD1 (R3), [V5.D2, V6.D2]
	VLD1 (R4), [V7.D2, V8.D2]
	VLD1 (R5), [V9.D2, V10.D2]
	VFMLA V28.D2, V1.D2, V3.D2
	VFMLA V28.D2, V2.D2, V4.D2
	VFMLA V29.D2, V1.D2, V5.D2
	VFMLA V29.D2, V2.D2, V6.D2
	VFMLA V30.D2, V1.D2, V7.D2
	VFMLA V30.D2, V2.D2, V8.D2
	VFMLA V31.D2, V1.D2, V9.D2
	VFMLA V31.D2, V2.D2, V10.D2
	VST1.P [V3.D2, V4.D2], 32(R2)
	VST1.P [V5.D2, V6.D2], 32(R3)
	VST1.P [V7.D2, V8.D2], 32(R4)
	VST1.P [V9.D2, V10.D2], 32(R5)
	SUBS $1, R1, R1
	BNE a4loop

a4done:
	RET

// func dotsNEON(q0, q1 *float64, k *float32, ldk int, n int, acc *[16]float64)
//
// The dot products of two query rows (float32 values as float64) with 8
// keys (rows of k, stride ldk float32 values) over t = 0…n−1 (n a
// multiple of 4), each summed in order into its own lane, continuing
// acc[r·8+j] (lanes = keys: V0–V3 row 0, V4–V7 row 1, two keys each; the
// key values are transposed in registers by ZIP1/ZIP2 per pair of keys).
TEXT ·dotsNEON(SB), NOSPLIT, $0-48
	MOVD q0+0(FP), R0
	MOVD q1+8(FP), R1
	MOVD k+16(FP), R2
	MOVD ldk+24(FP), R10
	LSL $2, R10, R10        // key stride in bytes
	MOVD n+32(FP), R11
	MOVD acc+40(FP), R12
	ADD R10, R2, R3
	ADD R10, R3, R4
	ADD R10, R4, R5
	ADD R10, R5, R6
	ADD R10, R6, R7
	ADD R10, R7, R8
	ADD R10, R8, R9
	MOVD R12, R13
	VLD1.P 64(R13), [V0.D2, V1.D2, V2.D2, V3.D2]
	VLD1 (R13), [V4.D2, V5.D2, V6.D2, V7.D2]
	LSR $2, R11, R11
	CBZ R11, ddone

dloop:
	VLD1.P 32(R0), [V8.D2, V9.D2]   // q0[t…t+3]
	VLD1.P 32(R1), [V10.D2, V11.D2] // q1[t…t+3]
	VLD1.P 16(R2), [V16.S4]
	VLD1.P 16(R3), [V17.S4]
	VLD1.P 16(R4), [V18.S4]
	VLD1.P 16(R5), [V19.S4]
	VLD1.P 16(R6), [V20.S4]
	VLD1.P 16(R7), [V21.S4]
	VLD1.P 16(R8), [V22.S4]
	VLD1.P 16(R9), [V23.S4]

// DPAIR(KA, KB, A0, A1): two keys' next 4 values (KA, KB as .4S) into
// their pair's accumulators, V<A0> for row 0 and V<A1> for row 1, terms
// t…t+3 in order (V24–V29 temporaries).
#define DPAIR(KA, KB, A0, A1) \
	VZIP1 KB, KA, V24.S4; \
	VZIP2 KB, KA, V25.S4; \
	FCVTL2D(26, 24); \
	FCVTL2_2D(27, 24); \
	FCVTL2D(28, 25); \
	FCVTL2_2D(29, 25); \
	FMLAE2D(A0, 26, 8, 0); \
	FMLAE2D(A1, 26, 10, 0); \
	FMLAE2D(A0, 27, 8, 1); \
	FMLAE2D(A1, 27, 10, 1); \
	FMLAE2D(A0, 28, 9, 0); \
	FMLAE2D(A1, 28, 11, 0); \
	FMLAE2D(A0, 29, 9, 1); \
	FMLAE2D(A1, 29, 11, 1)

	DPAIR(V16.S4, V17.S4, 0, 4)
	DPAIR(V18.S4, V19.S4, 1, 5)
	DPAIR(V20.S4, V21.S4, 2, 6)
	DPAIR(V22.S4, V23.S4, 3, 7)
	SUBS $1, R11, R11
	BNE dloop

ddone:
	VST1.P [V0.D2, V1.D2, V2.D2, V3.D2], 64(R12)
	VST1 [V4.D2, V5.D2, V6.D2, V7.D2], (R12)
	RET

// func normsNEON(k *float32, ldk int, n int, acc *[8]float64)
//
// The squared norms of 8 keys (rows of k, stride ldk float32 values) over
// t = 0…n−1 (n a multiple of 4), each summed in order into its own lane,
// continuing acc (lanes = keys, two per register, transposed by ZIP1/ZIP2
// as in dotsNEON; products of float32 values are exact, so FMLA rounds as
// madd).
TEXT ·normsNEON(SB), NOSPLIT, $0-32
	MOVD k+0(FP), R2
	MOVD ldk+8(FP), R10
	LSL $2, R10, R10        // key stride in bytes
	MOVD n+16(FP), R11
	MOVD acc+24(FP), R12
	ADD R10, R2, R3
	ADD R10, R3, R4
	ADD R10, R4, R5
	ADD R10, R5, R6
	ADD R10, R6, R7
	ADD R10, R7, R8
	ADD R10, R8, R9
	VLD1 (R12), [V0.D2, V1.D2, V2.D2, V3.D2]
	LSR $2, R11, R11
	CBZ R11, nndone

nnloop:
	VLD1.P 16(R2), [V16.S4]
	VLD1.P 16(R3), [V17.S4]
	VLD1.P 16(R4), [V18.S4]
	VLD1.P 16(R5), [V19.S4]
	VLD1.P 16(R6), [V20.S4]
	VLD1.P 16(R7), [V21.S4]
	VLD1.P 16(R8), [V22.S4]
	VLD1.P 16(R9), [V23.S4]

// NPAIR(KA, KB, A): two keys' next 4 values (KA, KB as .4S) squared into
// their pair's accumulator A, terms t…t+3 in order (V24–V29 temporaries).
#define NPAIR(KA, KB, A) \
	VZIP1 KB, KA, V24.S4; \
	VZIP2 KB, KA, V25.S4; \
	FCVTL2D(26, 24); \
	FCVTL2_2D(27, 24); \
	FCVTL2D(28, 25); \
	FCVTL2_2D(29, 25); \
	VFMLA V26.D2, V26.D2, A; \
	VFMLA V27.D2, V27.D2, A; \
	VFMLA V28.D2, V28.D2, A; \
	VFMLA V29.D2, V29.D2, A

	NPAIR(V16.S4, V17.S4, V0.D2)
	NPAIR(V18.S4, V19.S4, V1.D2)
	NPAIR(V20.S4, V21.S4, V2.D2)
	NPAIR(V22.S4, V23.S4, V3.D2)
	SUBS $1, R11, R11
	BNE nnloop

nndone:
	VST1 [V0.D2, V1.D2, V2.D2, V3.D2], (R12)
	RET

// The logits kernels for K as float32, widened as they go (every panel
// converts each key value again): for calls with few query panels, where
// widening K once would cost more than it saves. Same lanes, same order,
// same bits as the float64-K kernels above.

// func logits32NEON(q *float64, d int, k *float32, ngroups int, kc, qn *float64, invV float64, l *float64)
//
// For ngroups groups of 4 keys (rows of k, stride d float32 values) and the
// 8 query rows of the panel q ([d][8] float64), writes the logits
// dot·invV − (qn + kc[j]) to l ([4·ngroups][8]). Each dot product sums
// t = 0…d−1 in order into one lane, from zero.
TEXT ·logits32NEON(SB), NOSPLIT, $0-64
	MOVD q+0(FP), R0
	MOVD d+8(FP), R1
	MOVD k+16(FP), R2
	MOVD ngroups+24(FP), R3
	MOVD kc+32(FP), R4
	MOVD qn+40(FP), R5
	FMOVD invV+48(FP), F28
	MOVD l+56(FP), R6
	VDUP V28.D[0], V28.D2
	LSL $2, R1, R7          // key row stride in bytes
	VLD1 (R5), [V24.D2, V25.D2, V26.D2, V27.D2]
	CBZ R3, ldone32

lgroup32:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	MOVD R0, R8
	MOVD R2, R9
	ADD R7, R9, R10
	ADD R7, R10, R11
	ADD R7, R11, R12
	MOVD R1, R13
	CBZ R13, lfinish32

linner32:
	VLD1.P 64(R8), [V16.D2, V17.D2, V18.D2, V19.D2]
	VLD1R.P 4(R9), [V20.S2]
	VLD1R.P 4(R10), [V21.S2]
	VLD1R.P 4(R11), [V22.S2]
	VLD1R.P 4(R12), [V23.S2]
	FCVTL2D(20, 20)
	FCVTL2D(21, 21)
	FCVTL2D(22, 22)
	FCVTL2D(23, 23)
	VFMLA V20.D2, V16.D2, V0.D2
	VFMLA V20.D2, V17.D2, V1.D2
	VFMLA V20.D2, V18.D2, V2.D2
	VFMLA V20.D2, V19.D2, V3.D2
	VFMLA V21.D2, V16.D2, V4.D2
	VFMLA V21.D2, V17.D2, V5.D2
	VFMLA V21.D2, V18.D2, V6.D2
	VFMLA V21.D2, V19.D2, V7.D2
	VFMLA V22.D2, V16.D2, V8.D2
	VFMLA V22.D2, V17.D2, V9.D2
	VFMLA V22.D2, V18.D2, V10.D2
	VFMLA V22.D2, V19.D2, V11.D2
	VFMLA V23.D2, V16.D2, V12.D2
	VFMLA V23.D2, V17.D2, V13.D2
	VFMLA V23.D2, V18.D2, V14.D2
	VFMLA V23.D2, V19.D2, V15.D2
	SUBS $1, R13, R13
	BNE linner32

lfinish32:
// LOGIT(a0, a1, a2, a3): the 8 logits of the next key from its dot
// products in V<a0>…V<a3>, in place: dot·invV − (qn + kc).
#define LOGIT32(a0, a1, a2, a3) \
	VLD1R.P 8(R4), [V29.D2]; \
	FADD2D(16, 24, 29); \
	FADD2D(17, 25, 29); \
	FADD2D(18, 26, 29); \
	FADD2D(19, 27, 29); \
	FMUL2D(a0, a0, 28); \
	FMUL2D(a1, a1, 28); \
	FMUL2D(a2, a2, 28); \
	FMUL2D(a3, a3, 28); \
	FSUB2D(a0, a0, 16); \
	FSUB2D(a1, a1, 17); \
	FSUB2D(a2, a2, 18); \
	FSUB2D(a3, a3, 19)

	LOGIT32(0, 1, 2, 3)
	LOGIT32(4, 5, 6, 7)
	LOGIT32(8, 9, 10, 11)
	LOGIT32(12, 13, 14, 15)
	VST1.P [V0.D2, V1.D2, V2.D2, V3.D2], 64(R6)
	VST1.P [V4.D2, V5.D2, V6.D2, V7.D2], 64(R6)
	VST1.P [V8.D2, V9.D2, V10.D2, V11.D2], 64(R6)
	VST1.P [V12.D2, V13.D2, V14.D2, V15.D2], 64(R6)
	ADD R7<<2, R2, R2
	SUBS $1, R3, R3
	BNE lgroup32

ldone32:
	RET
