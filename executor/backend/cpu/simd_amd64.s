//go:build !purego

#include "textflag.h"

// AVX2 + FMA kernels of the SIMD attention path (simd.go). Lanes are query
// rows: a panel of 8 rows is two YMM registers, and every lane does exactly
// the scalar sequence of the pure-Go kernels (see simd.go for the proof
// that the bits are the same).

// Broadcast constants of the exponential (exp.go), 4 copies each.
DATA expc<>+0(SB)/8, $0xc054000000000000 // cutoff
DATA expc<>+8(SB)/8, $0xc054000000000000 // cutoff
DATA expc<>+16(SB)/8, $0xc054000000000000 // cutoff
DATA expc<>+24(SB)/8, $0xc054000000000000 // cutoff
DATA expc<>+32(SB)/8, $0x40571547652b82fe // invStep
DATA expc<>+40(SB)/8, $0x40571547652b82fe // invStep
DATA expc<>+48(SB)/8, $0x40571547652b82fe // invStep
DATA expc<>+56(SB)/8, $0x40571547652b82fe // invStep
DATA expc<>+64(SB)/8, $0x3fe0000000000000 // half
DATA expc<>+72(SB)/8, $0x3fe0000000000000 // half
DATA expc<>+80(SB)/8, $0x3fe0000000000000 // half
DATA expc<>+88(SB)/8, $0x3fe0000000000000 // half
DATA expc<>+96(SB)/8, $0x3f862e42fee00000 // stepHi
DATA expc<>+104(SB)/8, $0x3f862e42fee00000 // stepHi
DATA expc<>+112(SB)/8, $0x3f862e42fee00000 // stepHi
DATA expc<>+120(SB)/8, $0x3f862e42fee00000 // stepHi
DATA expc<>+128(SB)/8, $0x3d8a39ef35793c76 // stepLo
DATA expc<>+136(SB)/8, $0x3d8a39ef35793c76 // stepLo
DATA expc<>+144(SB)/8, $0x3d8a39ef35793c76 // stepLo
DATA expc<>+152(SB)/8, $0x3d8a39ef35793c76 // stepLo
DATA expc<>+160(SB)/8, $0x3fa5555555555555 // c24
DATA expc<>+168(SB)/8, $0x3fa5555555555555 // c24
DATA expc<>+176(SB)/8, $0x3fa5555555555555 // c24
DATA expc<>+184(SB)/8, $0x3fa5555555555555 // c24
DATA expc<>+192(SB)/8, $0x3fc5555555555555 // c6
DATA expc<>+200(SB)/8, $0x3fc5555555555555 // c6
DATA expc<>+208(SB)/8, $0x3fc5555555555555 // c6
DATA expc<>+216(SB)/8, $0x3fc5555555555555 // c6
DATA expc<>+224(SB)/8, $0x3ff0000000000000 // one
DATA expc<>+232(SB)/8, $0x3ff0000000000000 // one
DATA expc<>+240(SB)/8, $0x3ff0000000000000 // one
DATA expc<>+248(SB)/8, $0x3ff0000000000000 // one
DATA expc<>+256(SB)/8, $1023
DATA expc<>+264(SB)/8, $1023
DATA expc<>+272(SB)/8, $1023
DATA expc<>+280(SB)/8, $1023
DATA expc<>+288(SB)/4, $63
DATA expc<>+292(SB)/4, $63
DATA expc<>+296(SB)/4, $63
DATA expc<>+300(SB)/4, $63
GLOBL expc<>(SB), RODATA|NOPTR, $304

#define CUTOFF expc<>+0(SB)
#define INVSTEP expc<>+32(SB)
#define HALF expc<>+64(SB)
#define STEPHI expc<>+96(SB)
#define STEPLO expc<>+128(SB)
#define C24 expc<>+160(SB)
#define C6 expc<>+192(SB)
#define ONE expc<>+224(SB)
#define BIAS1023 expc<>+256(SB)
#define MASK63 expc<>+288(SB)

// func logitsAVX2(q *float64, d int, k *float64, ngroups int, kc *float64, qn *float64, invV float64, l *float64)
//
// For ngroups groups of 4 keys (rows of k, stride d float64 values holding
// float32 values; each is broadcast straight from memory) and the
// 8 query rows of the panel q ([d][8] float64), writes the logits
// dot·invV − (qn + kc[j]) to l ([4·ngroups][8]). Each dot product sums
// t = 0…d−1 in order into one lane, from zero.
TEXT ·logitsAVX2(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), R13
	MOVQ d+8(FP), DX
	MOVQ k+16(FP), SI
	MOVQ ngroups+24(FP), CX
	MOVQ kc+32(FP), R8
	MOVQ qn+40(FP), R9
	VBROADCASTSD invV+48(FP), Y15
	MOVQ l+56(FP), R10
	LEAQ (DX*8), DI      // key row stride in bytes
	LEAQ (DI)(DI*2), R11 // 3 strides
	VMOVUPD (R9), Y13
	VMOVUPD 32(R9), Y14
	TESTQ CX, CX
	JZ ldone

lgroup:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ R13, AX
	MOVQ SI, BX
	MOVQ DX, R12
	TESTQ R12, R12
	JZ lfinish

linner:
	VMOVUPD (AX), Y8
	VMOVUPD 32(AX), Y9
	VBROADCASTSD (BX), Y10
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y1
	VBROADCASTSD (BX)(DI*1), Y11
	VFMADD231PD Y11, Y8, Y2
	VFMADD231PD Y11, Y9, Y3
	VBROADCASTSD (BX)(DI*2), Y10
	VFMADD231PD Y10, Y8, Y4
	VFMADD231PD Y10, Y9, Y5
	VBROADCASTSD (BX)(R11*1), Y11
	VFMADD231PD Y11, Y8, Y6
	VFMADD231PD Y11, Y9, Y7
	ADDQ $64, AX
	ADDQ $8, BX
	DECQ R12
	JNZ linner

lfinish:
#define LOGIT(off, A, B) \
	VBROADCASTSD off(R8), Y10; \
	VADDPD Y10, Y13, Y11; \
	VADDPD Y10, Y14, Y12; \
	VMULPD Y15, A, A; \
	VMULPD Y15, B, B; \
	VSUBPD Y11, A, A; \
	VSUBPD Y12, B, B; \
	VMOVUPD A, (off*8)(R10); \
	VMOVUPD B, (off*8+32)(R10)

	LOGIT(0, Y0, Y1)
	LOGIT(8, Y2, Y3)
	LOGIT(16, Y4, Y5)
	LOGIT(24, Y6, Y7)
	ADDQ $32, R8
	ADDQ $256, R10
	LEAQ (SI)(DI*4), SI
	DECQ CX
	JNZ lgroup

ldone:
	VZEROUPPER
	RET

// func softmaxAVX2(l *float64, nk int, sum *float64)
//
// The two-pass softmax of softmaxRow for the 8 rows of a panel of logits
// l ([nk][8], nk ≥ 1), in place; the 8 weight sums go to sum.
TEXT ·softmaxAVX2(SB), NOSPLIT, $0-24
	MOVQ l+0(FP), SI
	MOVQ nk+8(FP), CX
	MOVQ sum+16(FP), DI
	LEAQ ·exp2Frac(SB), DX
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	LEAQ 64(SI), AX
	MOVQ CX, BX
	DECQ BX
	JLE smaxdone

smax:
	// m = x > m ? x : m, as softmaxRow's "if x > m".
	VMOVUPD (AX), Y2
	VMOVUPD 32(AX), Y3
	VMAXPD Y0, Y2, Y0
	VMAXPD Y1, Y3, Y1
	ADDQ $64, AX
	DECQ BX
	JNZ smax

smaxdone:
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ SI, AX

// EXP4(off, M, S, X, MSK, T, TX, R, RX, Q, QX, G): 4 lanes of softmaxRow's
// loop body at off(AX).
#define EXP4(off, M, S, X, MSK, T, TX, R, RX, Q, QX, G) \
	VMOVUPD off(AX), X; \
	VSUBPD M, X, X; \
	VCMPPD $1, CUTOFF, X, MSK; \
	VMULPD INVSTEP, X, T; \
	VSUBPD HALF, T, T; \
	VCVTTPD2DQY T, TX; \
	VCVTDQ2PD TX, R; \
	VMULPD STEPHI, R, Q; \
	VSUBPD Q, X, X; \
	VMULPD STEPLO, R, Q; \
	VSUBPD Q, X, X; \
	VMULPD C24, X, Q; \
	VADDPD C6, Q, Q; \
	VMULPD X, Q, Q; \
	VADDPD HALF, Q, Q; \
	VMULPD X, Q, Q; \
	VADDPD ONE, Q, Q; \
	VMULPD X, Q, Q; \
	VADDPD ONE, Q, Q; \
	VPAND MASK63, TX, RX; \
	VPCMPEQD G, G, G; \
	VGATHERDPD G, (DX)(RX*8), X; \
	VMULPD X, Q, Q; \
	VPSRAD $6, TX, TX; \
	VPMOVSXDQ TX, T; \
	VPADDQ BIAS1023, T, T; \
	VPSLLQ $52, T, T; \
	VMULPD T, Q, Q; \
	VCVTPD2PSY Q, QX; \
	VCVTPS2PD QX, Q; \
	VANDNPD Q, MSK, Q; \
	VMOVUPD Q, off(AX); \
	VADDPD Q, S, S

// A key whose x − m is below the cutoff in all 8 lanes (most keys of the
// VAE decode's codebook attention) gets weight +0 in every lane, as the
// full body would give it, and adds nothing to the sums (the body would
// add +0 to a sum that is never −0: it starts at +0 and only weights ≥ +0
// or NaN are added), so the exponentials are skipped for it. A NaN lane
// fails the test (an unordered compare is false) and takes the full body.
sexp:
	VMOVUPD (AX), Y4
	VSUBPD Y0, Y4, Y4
	VCMPPD $1, CUTOFF, Y4, Y5
	VMOVUPD 32(AX), Y10
	VSUBPD Y1, Y10, Y10
	VCMPPD $1, CUTOFF, Y10, Y11
	VANDPD Y11, Y5, Y5
	VMOVMSKPD Y5, R8
	CMPQ R8, $15
	JNE slive
	VXORPD Y4, Y4, Y4
	VMOVUPD Y4, (AX)
	VMOVUPD Y4, 32(AX)
	JMP snext

slive:
	EXP4(0, Y0, Y2, Y4, Y5, Y6, X6, Y7, X7, Y8, X8, Y9)
	EXP4(32, Y1, Y3, Y10, Y11, Y12, X12, Y13, X13, Y14, X14, Y15)

snext:
	ADDQ $64, AX
	DECQ CX
	JNZ sexp

	VMOVUPD Y2, (DI)
	VMOVUPD Y3, 32(DI)
	VZEROUPPER
	RET

// func pvAVX2(p *float64, nk int, v *float64, ldv int, acc *float64)
//
// acc[c][r] += Σ_j p[j][r]·v[j·ldv+c] for the 4 columns c of v and the 8
// rows r of the panel of weights p ([nk][8]), j in order; acc is [4][8].
TEXT ·pvAVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ nk+8(FP), CX
	MOVQ v+16(FP), DI
	MOVQ ldv+24(FP), DX
	SHLQ $3, DX
	MOVQ acc+32(FP), R8
	VMOVUPD (R8), Y0
	VMOVUPD 32(R8), Y1
	VMOVUPD 64(R8), Y2
	VMOVUPD 96(R8), Y3
	VMOVUPD 128(R8), Y4
	VMOVUPD 160(R8), Y5
	VMOVUPD 192(R8), Y6
	VMOVUPD 224(R8), Y7
	TESTQ CX, CX
	JZ pstore

ploop:
	VMOVUPD (SI), Y8
	VMOVUPD 32(SI), Y9
	VBROADCASTSD (DI), Y10
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y1
	VBROADCASTSD 8(DI), Y11
	VFMADD231PD Y11, Y8, Y2
	VFMADD231PD Y11, Y9, Y3
	VBROADCASTSD 16(DI), Y12
	VFMADD231PD Y12, Y8, Y4
	VFMADD231PD Y12, Y9, Y5
	VBROADCASTSD 24(DI), Y13
	VFMADD231PD Y13, Y8, Y6
	VFMADD231PD Y13, Y9, Y7
	ADDQ $64, SI
	ADDQ DX, DI
	DECQ CX
	JNZ ploop

pstore:
	VMOVUPD Y0, (R8)
	VMOVUPD Y1, 32(R8)
	VMOVUPD Y2, 64(R8)
	VMOVUPD Y3, 96(R8)
	VMOVUPD Y4, 128(R8)
	VMOVUPD Y5, 160(R8)
	VMOVUPD Y6, 192(R8)
	VMOVUPD Y7, 224(R8)
	VZEROUPPER
	RET

// func logitsAVX512(q *float64, d int, k *float64, ngroups int, kc, qn *float64, invV float64, l *float64)
//
// logitsAVX2 for groups of 8 keys, the 8 rows of the panel in one ZMM
// register.
TEXT ·logitsAVX512(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), R13
	MOVQ d+8(FP), DX
	MOVQ k+16(FP), SI
	MOVQ ngroups+24(FP), CX
	MOVQ kc+32(FP), R8
	MOVQ qn+40(FP), R9
	VBROADCASTSD invV+48(FP), Z15
	MOVQ l+56(FP), R10
	LEAQ (DX*8), DI      // key row stride in bytes
	LEAQ (DI)(DI*2), R11 // 3 strides
	VMOVUPD (R9), Z13
	TESTQ CX, CX
	JZ zdone

zgroup:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	MOVQ R13, AX
	MOVQ SI, BX
	LEAQ (SI)(DI*4), R14
	MOVQ DX, R12
	TESTQ R12, R12
	JZ zfinish

zinner:
	VMOVUPD (AX), Z8
	VFMADD231PD.BCST (BX), Z8, Z0
	VFMADD231PD.BCST (BX)(DI*1), Z8, Z1
	VFMADD231PD.BCST (BX)(DI*2), Z8, Z2
	VFMADD231PD.BCST (BX)(R11*1), Z8, Z3
	VFMADD231PD.BCST (R14), Z8, Z4
	VFMADD231PD.BCST (R14)(DI*1), Z8, Z5
	VFMADD231PD.BCST (R14)(DI*2), Z8, Z6
	VFMADD231PD.BCST (R14)(R11*1), Z8, Z7
	ADDQ $64, AX
	ADDQ $8, BX
	ADDQ $8, R14
	DECQ R12
	JNZ zinner

zfinish:
#define ZLOGIT(off, A) \
	VADDPD.BCST off(R8), Z13, Z11; \
	VMULPD Z15, A, A; \
	VSUBPD Z11, A, A; \
	VMOVUPD A, (off*8)(R10)

	ZLOGIT(0, Z0)
	ZLOGIT(8, Z1)
	ZLOGIT(16, Z2)
	ZLOGIT(24, Z3)
	ZLOGIT(32, Z4)
	ZLOGIT(40, Z5)
	ZLOGIT(48, Z6)
	ZLOGIT(56, Z7)
	ADDQ $64, R8
	ADDQ $512, R10
	LEAQ (SI)(DI*8), SI
	DECQ CX
	JNZ zgroup

zdone:
	VZEROUPPER
	RET

// func axpy2AVX2(p0, p1 float64, v *float32, n int, o0, o1 *float64)
//
// o0[c] += p0·v[c] and o1[c] += p1·v[c] for c < n, n a multiple of 8:
// axpy2 with lanes = columns (each o[c] gets the same single exact
// product and rounded add as in axpy2).
TEXT ·axpy2AVX2(SB), NOSPLIT, $0-48
	VBROADCASTSD p0+0(FP), Y14
	VBROADCASTSD p1+8(FP), Y15
	MOVQ v+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ o0+32(FP), DI
	MOVQ o1+40(FP), R8
	SHRQ $3, CX
	JZ a2done

a2loop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VMOVUPD (DI), Y2
	VMOVUPD 32(DI), Y3
	VMOVUPD (R8), Y4
	VMOVUPD 32(R8), Y5
	VFMADD231PD Y14, Y0, Y2
	VFMADD231PD Y14, Y1, Y3
	VFMADD231PD Y15, Y0, Y4
	VFMADD231PD Y15, Y1, Y5
	VMOVUPD Y2, (DI)
	VMOVUPD Y3, 32(DI)
	VMOVUPD Y4, (R8)
	VMOVUPD Y5, 32(R8)
	ADDQ $32, SI
	ADDQ $64, DI
	ADDQ $64, R8
	DECQ CX
	JNZ a2loop

a2done:
	VZEROUPPER
	RET

// func axpy4AVX2(p *[4]float64, v *float32, n int, o0, o1, o2, o3 *float64)
//
// axpy2AVX2 for four weight rows: V is read and widened once for all four.
TEXT ·axpy4AVX2(SB), NOSPLIT, $0-56
	MOVQ p+0(FP), AX
	VBROADCASTSD (AX), Y12
	VBROADCASTSD 8(AX), Y13
	VBROADCASTSD 16(AX), Y14
	VBROADCASTSD 24(AX), Y15
	MOVQ v+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ o0+24(FP), DI
	MOVQ o1+32(FP), R8
	MOVQ o2+40(FP), R9
	MOVQ o3+48(FP), R10
	SHRQ $2, CX
	JZ a4done

a4loop:
	VCVTPS2PD (SI), Y0
	VMOVUPD (DI), Y2
	VMOVUPD (R8), Y3
	VMOVUPD (R9), Y4
	VMOVUPD (R10), Y5
	VFMADD231PD Y12, Y0, Y2
	VFMADD231PD Y13, Y0, Y3
	VFMADD231PD Y14, Y0, Y4
	VFMADD231PD Y15, Y0, Y5
	VMOVUPD Y2, (DI)
	VMOVUPD Y3, (R8)
	VMOVUPD Y4, (R9)
	VMOVUPD Y5, (R10)
	ADDQ $16, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	DECQ CX
	JNZ a4loop

a4done:
	VZEROUPPER
	RET

// TRANSPOSE4 turns four YMM rows A, B, C, D ([x0 x1 x2 x3] each) into four
// columns in place (A = [a0 b0 c0 d0], B = [a1 b1 c1 d1], …) through the
// temporaries T0–T3.
#define TRANSPOSE4(A, B, C, D, T0, T1, T2, T3) \
	VUNPCKLPD B, A, T0; \
	VUNPCKHPD B, A, T1; \
	VUNPCKLPD D, C, T2; \
	VUNPCKHPD D, C, T3; \
	VPERM2F128 $0x20, T2, T0, A; \
	VPERM2F128 $0x20, T3, T1, B; \
	VPERM2F128 $0x31, T2, T0, C; \
	VPERM2F128 $0x31, T3, T1, D

// func dotsAVX2(q0, q1 *float64, k *float32, ldk int, n int, acc *[16]float64)
//
// The dot products of two query rows (float32 values as float64) with 8
// keys (rows of k, stride ldk float32 values) over t = 0…n−1 (n a
// multiple of 4), each summed in order into its own lane, continuing
// acc[r·8+j] (lanes = keys; the key values are transposed in registers).
TEXT ·dotsAVX2(SB), NOSPLIT, $0-48
	MOVQ q0+0(FP), AX
	MOVQ q1+8(FP), BX
	MOVQ k+16(FP), SI
	MOVQ ldk+24(FP), DX
	SHLQ $2, DX           // key stride in bytes
	MOVQ n+32(FP), CX
	MOVQ acc+40(FP), R8
	LEAQ (DX)(DX*2), R9   // 3 strides
	LEAQ (SI)(DX*4), DI   // keys 4–7
	VMOVUPD (R8), Y0      // row 0, keys 0–3
	VMOVUPD 32(R8), Y1    // row 0, keys 4–7
	VMOVUPD 64(R8), Y2    // row 1, keys 0–3
	VMOVUPD 96(R8), Y3    // row 1, keys 4–7
	SHRQ $2, CX
	JZ ddone

dloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD (SI)(DX*1), Y5
	VCVTPS2PD (SI)(DX*2), Y6
	VCVTPS2PD (SI)(R9*1), Y7
	TRANSPOSE4(Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VCVTPS2PD (DI), Y8
	VCVTPS2PD (DI)(DX*1), Y9
	VCVTPS2PD (DI)(DX*2), Y10
	VCVTPS2PD (DI)(R9*1), Y11
	TRANSPOSE4(Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)

#define DSTEP(off, KA, KB) \
	VBROADCASTSD off(AX), Y12; \
	VBROADCASTSD off(BX), Y13; \
	VFMADD231PD KA, Y12, Y0; \
	VFMADD231PD KB, Y12, Y1; \
	VFMADD231PD KA, Y13, Y2; \
	VFMADD231PD KB, Y13, Y3

	DSTEP(0, Y4, Y8)
	DSTEP(8, Y5, Y9)
	DSTEP(16, Y6, Y10)
	DSTEP(24, Y7, Y11)
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ dloop

ddone:
	VMOVUPD Y0, (R8)
	VMOVUPD Y1, 32(R8)
	VMOVUPD Y2, 64(R8)
	VMOVUPD Y3, 96(R8)
	VZEROUPPER
	RET

// func normsAVX2(k *float32, ldk int, n int, acc *[8]float64)
//
// The squared norms of 8 keys (rows of k, stride ldk float32 values) over
// t = 0…n−1 (n a multiple of 4), each summed in order into its own lane,
// continuing acc (lanes = keys, transposed in registers as in dotsAVX2;
// the products of float32 values are exact, so the FMA rounds as madd).
TEXT ·normsAVX2(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), SI
	MOVQ ldk+8(FP), DX
	SHLQ $2, DX           // key stride in bytes
	MOVQ n+16(FP), CX
	MOVQ acc+24(FP), R8
	LEAQ (DX)(DX*2), R9   // 3 strides
	LEAQ (SI)(DX*4), DI   // keys 4–7
	VMOVUPD (R8), Y0      // keys 0–3
	VMOVUPD 32(R8), Y1    // keys 4–7
	SHRQ $2, CX
	JZ ndone

nloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD (SI)(DX*1), Y5
	VCVTPS2PD (SI)(DX*2), Y6
	VCVTPS2PD (SI)(R9*1), Y7
	TRANSPOSE4(Y4, Y5, Y6, Y7, Y12, Y13, Y14, Y15)
	VCVTPS2PD (DI), Y8
	VCVTPS2PD (DI)(DX*1), Y9
	VCVTPS2PD (DI)(DX*2), Y10
	VCVTPS2PD (DI)(R9*1), Y11
	TRANSPOSE4(Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y8, Y8, Y1
	VFMADD231PD Y5, Y5, Y0
	VFMADD231PD Y9, Y9, Y1
	VFMADD231PD Y6, Y6, Y0
	VFMADD231PD Y10, Y10, Y1
	VFMADD231PD Y7, Y7, Y0
	VFMADD231PD Y11, Y11, Y1
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ nloop

ndone:
	VMOVUPD Y0, (R8)
	VMOVUPD Y1, 32(R8)
	VZEROUPPER
	RET

// The logits kernels for K as float32, widened as they go (every panel
// converts each key value again): for calls with few query panels, where
// widening K once would cost more than it saves. Same lanes, same order,
// same bits as the float64-K kernels above.

// func logits32AVX2(q *float64, d int, k *float32, ngroups int, kc *float64, qn *float64, invV float64, l *float64)
//
// For ngroups groups of 4 keys (rows of k, stride d float32 values) and the
// 8 query rows of the panel q ([d][8] float64), writes the logits
// dot·invV − (qn + kc[j]) to l ([4·ngroups][8]). Each dot product sums
// t = 0…d−1 in order into one lane, from zero.
TEXT ·logits32AVX2(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), R13
	MOVQ d+8(FP), DX
	MOVQ k+16(FP), SI
	MOVQ ngroups+24(FP), CX
	MOVQ kc+32(FP), R8
	MOVQ qn+40(FP), R9
	VBROADCASTSD invV+48(FP), Y15
	MOVQ l+56(FP), R10
	LEAQ (DX*4), DI      // key row stride in bytes
	LEAQ (DI)(DI*2), R11 // 3 strides
	VMOVUPD (R9), Y13
	VMOVUPD 32(R9), Y14
	TESTQ CX, CX
	JZ ldone32

lgroup32:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ R13, AX
	MOVQ SI, BX
	MOVQ DX, R12
	TESTQ R12, R12
	JZ lfinish32

linner32:
	VMOVUPD (AX), Y8
	VMOVUPD 32(AX), Y9
	VBROADCASTSS (BX), X10
	VCVTPS2PD X10, Y10
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y1
	VBROADCASTSS (BX)(DI*1), X11
	VCVTPS2PD X11, Y11
	VFMADD231PD Y11, Y8, Y2
	VFMADD231PD Y11, Y9, Y3
	VBROADCASTSS (BX)(DI*2), X10
	VCVTPS2PD X10, Y10
	VFMADD231PD Y10, Y8, Y4
	VFMADD231PD Y10, Y9, Y5
	VBROADCASTSS (BX)(R11*1), X11
	VCVTPS2PD X11, Y11
	VFMADD231PD Y11, Y8, Y6
	VFMADD231PD Y11, Y9, Y7
	ADDQ $64, AX
	ADDQ $4, BX
	DECQ R12
	JNZ linner32

lfinish32:
#define LOGIT32(off, A, B) \
	VBROADCASTSD off(R8), Y10; \
	VADDPD Y10, Y13, Y11; \
	VADDPD Y10, Y14, Y12; \
	VMULPD Y15, A, A; \
	VMULPD Y15, B, B; \
	VSUBPD Y11, A, A; \
	VSUBPD Y12, B, B; \
	VMOVUPD A, (off*8)(R10); \
	VMOVUPD B, (off*8+32)(R10)

	LOGIT32(0, Y0, Y1)
	LOGIT32(8, Y2, Y3)
	LOGIT32(16, Y4, Y5)
	LOGIT32(24, Y6, Y7)
	ADDQ $32, R8
	ADDQ $256, R10
	LEAQ (SI)(DI*4), SI
	DECQ CX
	JNZ lgroup32

ldone32:
	VZEROUPPER
	RET

// func logits32AVX512(q *float64, d int, k *float32, ngroups int, kc, qn *float64, invV float64, l *float64)
//
// logitsAVX2 for groups of 8 keys, the 8 rows of the panel in one ZMM
// register: each key value is widened and broadcast by one instruction.
TEXT ·logits32AVX512(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), R13
	MOVQ d+8(FP), DX
	MOVQ k+16(FP), SI
	MOVQ ngroups+24(FP), CX
	MOVQ kc+32(FP), R8
	MOVQ qn+40(FP), R9
	VBROADCASTSD invV+48(FP), Z15
	MOVQ l+56(FP), R10
	LEAQ (DX*4), DI      // key row stride in bytes
	LEAQ (DI)(DI*2), R11 // 3 strides
	VMOVUPD (R9), Z13
	TESTQ CX, CX
	JZ zdone32

zgroup32:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	MOVQ R13, AX
	MOVQ SI, BX
	LEAQ (SI)(DI*4), R14
	MOVQ DX, R12
	TESTQ R12, R12
	JZ zfinish32

zinner32:
	VMOVUPD (AX), Z8
	VCVTPS2PD.BCST (BX), Z16
	VCVTPS2PD.BCST (BX)(DI*1), Z17
	VCVTPS2PD.BCST (BX)(DI*2), Z18
	VCVTPS2PD.BCST (BX)(R11*1), Z19
	VCVTPS2PD.BCST (R14), Z20
	VCVTPS2PD.BCST (R14)(DI*1), Z21
	VCVTPS2PD.BCST (R14)(DI*2), Z22
	VCVTPS2PD.BCST (R14)(R11*1), Z23
	VFMADD231PD Z16, Z8, Z0
	VFMADD231PD Z17, Z8, Z1
	VFMADD231PD Z18, Z8, Z2
	VFMADD231PD Z19, Z8, Z3
	VFMADD231PD Z20, Z8, Z4
	VFMADD231PD Z21, Z8, Z5
	VFMADD231PD Z22, Z8, Z6
	VFMADD231PD Z23, Z8, Z7
	ADDQ $64, AX
	ADDQ $4, BX
	ADDQ $4, R14
	DECQ R12
	JNZ zinner32

zfinish32:
#define ZLOGIT32(off, A) \
	VADDPD.BCST off(R8), Z13, Z11; \
	VMULPD Z15, A, A; \
	VSUBPD Z11, A, A; \
	VMOVUPD A, (off*8)(R10)

	ZLOGIT32(0, Z0)
	ZLOGIT32(8, Z1)
	ZLOGIT32(16, Z2)
	ZLOGIT32(24, Z3)
	ZLOGIT32(32, Z4)
	ZLOGIT32(40, Z5)
	ZLOGIT32(48, Z6)
	ZLOGIT32(56, Z7)
	ADDQ $64, R8
	ADDQ $512, R10
	LEAQ (SI)(DI*8), SI
	DECQ CX
	JNZ zgroup32

zdone32:
	VZEROUPPER
	RET
