//go:build !purego

#include "textflag.h"

// Vector kernels of the PNG row filters (unfilter_amd64.go). A pixel of
// three or four channels is one SSE register of 16-bit lanes (one lane a
// channel, the fourth a don't-care for three): the channels of a pixel
// are computed side by side, the pixels one after the other, since each
// depends on its left neighbour. Each lane computes exactly the bytes of
// unfilterGo (the tests hold them to it).
//
// A 3-byte pixel is loaded as 4 bytes (the fourth lane's result is never
// stored), so a kernel for 3 bytes per pixel is given n pixels of which a
// fourth byte follows the last: the caller does the row's last pixel
// itself.

// func paeth4SSSE3(cur, prev *byte, n int)
TEXT ·paeth4SSSE3(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	PXOR X0, X0             // zero
	PXOR X1, X1             // a: the left pixel, unfiltered
	PXOR X2, X2             // c: the upper-left pixel
	TESTQ CX, CX
	JZ p4done

p4loop:
	MOVL (SI), X3
	PUNPCKLBW X0, X3        // b: the pixel above
	MOVL (DI), X4
	PUNPCKLBW X0, X4        // x: the filtered bytes
	MOVO X3, X5
	PSUBW X2, X5            // b - c
	MOVO X1, X6
	PSUBW X2, X6            // a - c
	MOVO X5, X7
	PADDW X6, X7            // a + b - 2c
	PABSW X5, X5            // pa
	PABSW X6, X6            // pb
	PABSW X7, X7            // pc
	MOVO X6, X8
	PCMPGTW X7, X8          // pb > pc
	MOVO X3, X9
	PXOR X2, X9
	PAND X8, X9
	PXOR X3, X9             // bc = pc < pb ? c : b
	PMINSW X7, X6           // min(pb, pc)
	PCMPGTW X6, X5          // pa > min(pb, pc)
	PXOR X1, X9
	PAND X5, X9
	PXOR X9, X1             // predictor: pa > min(pb, pc) ? bc : a
	PADDB X4, X1            // a = predictor + x, mod 256 (high bytes 0)
	MOVO X1, X10
	PACKUSWB X10, X10
	MOVL X10, (DI)
	MOVO X3, X2             // c = b
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ p4loop

p4done:
	RET

// func paeth3SSSE3(cur, prev *byte, n int)
TEXT ·paeth3SSSE3(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	PXOR X0, X0
	PXOR X1, X1
	PXOR X2, X2
	TESTQ CX, CX
	JZ p3done

p3loop:
	MOVL (SI), X3
	PUNPCKLBW X0, X3
	MOVL (DI), X4
	PUNPCKLBW X0, X4
	MOVO X3, X5
	PSUBW X2, X5
	MOVO X1, X6
	PSUBW X2, X6
	MOVO X5, X7
	PADDW X6, X7
	PABSW X5, X5
	PABSW X6, X6
	PABSW X7, X7
	MOVO X6, X8
	PCMPGTW X7, X8
	MOVO X3, X9
	PXOR X2, X9
	PAND X8, X9
	PXOR X3, X9
	PMINSW X7, X6
	PCMPGTW X6, X5
	PXOR X1, X9
	PAND X5, X9
	PXOR X9, X1
	PADDB X4, X1
	MOVO X1, X10
	PACKUSWB X10, X10
	MOVL X10, AX
	MOVW AX, (DI)           // three bytes: a 4-byte store that the
	SHRL $16, AX            // next pixel's load overlaps would not
	MOVB AX, 2(DI)          // forward to it (a stall of ~10 cycles)
	MOVO X3, X2
	ADDQ $3, SI
	ADDQ $3, DI
	DECQ CX
	JNZ p3loop

p3done:
	RET

// The AVX forms of the Paeth kernels: three-operand instructions and
// VPBLENDVB shorten the chain from one pixel to the next (the left pixel
// a enters at the subtraction a - c and at the last blend) from 10
// instructions to 7.

// func paeth4AVX(cur, prev *byte, n int)
TEXT ·paeth4AVX(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	VPXOR X0, X0, X0
	VPXOR X1, X1, X1        // a
	VPXOR X2, X2, X2        // c
	TESTQ CX, CX
	JZ pa4done

pa4loop:
	VMOVD (SI), X3
	VPUNPCKLBW X0, X3, X3   // b
	VMOVD (DI), X4
	VPUNPCKLBW X0, X4, X4   // x
	VPSUBW X2, X3, X5       // b - c
	VPSUBW X2, X1, X6       // a - c
	VPADDW X6, X5, X7       // a + b - 2c
	VPABSW X5, X5           // pa
	VPABSW X6, X6           // pb
	VPABSW X7, X7           // pc
	VPCMPGTW X7, X6, X8     // pb > pc
	VPBLENDVB X8, X2, X3, X9 // bc = pb > pc ? c : b
	VPMINSW X7, X6, X6
	VPCMPGTW X6, X5, X5     // pa > min(pb, pc)
	VPBLENDVB X5, X9, X1, X1 // predictor
	VPADDB X4, X1, X1       // a = predictor + x, mod 256
	VPACKUSWB X1, X1, X10
	VMOVD X10, (DI)
	VMOVDQA X3, X2          // c = b
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ pa4loop

pa4done:
	RET

// func paeth3AVX(cur, prev *byte, n int)
TEXT ·paeth3AVX(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	VPXOR X0, X0, X0
	VPXOR X1, X1, X1
	VPXOR X2, X2, X2
	TESTQ CX, CX
	JZ pa3done

pa3loop:
	VMOVD (SI), X3
	VPUNPCKLBW X0, X3, X3
	VMOVD (DI), X4
	VPUNPCKLBW X0, X4, X4
	VPSUBW X2, X3, X5
	VPSUBW X2, X1, X6
	VPADDW X6, X5, X7
	VPABSW X5, X5
	VPABSW X6, X6
	VPABSW X7, X7
	VPCMPGTW X7, X6, X8
	VPBLENDVB X8, X2, X3, X9
	VPMINSW X7, X6, X6
	VPCMPGTW X6, X5, X5
	VPBLENDVB X5, X9, X1, X1
	VPADDB X4, X1, X1
	VPACKUSWB X1, X1, X10
	VMOVD X10, AX
	MOVW AX, (DI)
	SHRL $16, AX
	MOVB AX, 2(DI)
	VMOVDQA X3, X2
	ADDQ $3, SI
	ADDQ $3, DI
	DECQ CX
	JNZ pa3loop

pa3done:
	RET

// func avg4SSE2(cur, prev *byte, n int)
TEXT ·avg4SSE2(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	PXOR X0, X0
	PXOR X1, X1             // a
	TESTQ CX, CX
	JZ a4done

a4loop:
	MOVL (SI), X3
	PUNPCKLBW X0, X3        // b
	MOVL (DI), X4
	PUNPCKLBW X0, X4        // x
	PADDW X3, X1
	PSRLW $1, X1            // (a + b) / 2
	PADDB X4, X1
	MOVO X1, X10
	PACKUSWB X10, X10
	MOVL X10, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ a4loop

a4done:
	RET

// func avg3SSE2(cur, prev *byte, n int)
TEXT ·avg3SSE2(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	PXOR X0, X0
	PXOR X1, X1
	TESTQ CX, CX
	JZ a3done

a3loop:
	MOVL (SI), X3
	PUNPCKLBW X0, X3
	MOVL (DI), X4
	PUNPCKLBW X0, X4
	PADDW X3, X1
	PSRLW $1, X1
	PADDB X4, X1
	MOVO X1, X10
	PACKUSWB X10, X10
	MOVL X10, AX
	MOVW AX, (DI)
	SHRL $16, AX
	MOVB AX, 2(DI)
	ADDQ $3, SI
	ADDQ $3, DI
	DECQ CX
	JNZ a3loop

a3done:
	RET

// func sub4SSE2(cur *byte, n int)
TEXT ·sub4SSE2(SB), NOSPLIT, $0-16
	MOVQ cur+0(FP), DI
	MOVQ n+8(FP), CX
	PXOR X1, X1             // a
	TESTQ CX, CX
	JZ s4done

s4loop:
	MOVL (DI), X4
	PADDB X4, X1
	MOVL X1, (DI)
	ADDQ $4, DI
	DECQ CX
	JNZ s4loop

s4done:
	RET

// func sub3(cur *byte, n int)
TEXT ·sub3(SB), NOSPLIT, $0-16
	MOVQ cur+0(FP), DI
	MOVQ n+8(FP), CX
	PXOR X1, X1
	TESTQ CX, CX
	JZ s3done

s3loop:
	MOVL (DI), X4
	PADDB X4, X1
	MOVL X1, AX
	MOVW AX, (DI)
	SHRL $16, AX
	MOVB AX, 2(DI)
	ADDQ $3, DI
	DECQ CX
	JNZ s3loop

s3done:
	RET

// func upAVX2(cur, prev *byte, n int): n a multiple of 32.
TEXT ·upAVX2(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $5, CX
	JZ upadone

upaloop:
	VMOVDQU (DI), Y0
	VPADDB (SI), Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ upaloop
	VZEROUPPER

upadone:
	RET

// func upSSE2(cur, prev *byte, n int): n a multiple of 16.
TEXT ·upSSE2(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), DI
	MOVQ prev+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ upsdone

upsloop:
	MOVOU (DI), X0
	MOVOU (SI), X1
	PADDB X1, X0
	MOVOU X0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ upsloop

upsdone:
	RET

// Where expandRGBSSSE3 puts the bytes of four RGB pixels: pixel k's
// channels at 4k..4k+2, its alpha lane zeroed (index 0x80), then set.
DATA rgbShuf<>+0(SB)/8, $0x8005040380020100
DATA rgbShuf<>+8(SB)/8, $0x800b0a0980080706
GLOBL rgbShuf<>(SB), RODATA|NOPTR, $16
DATA rgbAlpha<>+0(SB)/8, $0xff000000ff000000
DATA rgbAlpha<>+8(SB)/8, $0xff000000ff000000
GLOBL rgbAlpha<>(SB), RODATA|NOPTR, $16

// func expandRGBSSSE3(out, in *byte, n int): n groups of four pixels,
// with 16 bytes readable at each group's start.
TEXT ·expandRGBSSSE3(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ n+16(FP), CX
	MOVOU rgbShuf<>(SB), X14
	MOVOU rgbAlpha<>(SB), X15
	TESTQ CX, CX
	JZ exdone

exloop:
	MOVOU (SI), X0
	PSHUFB X14, X0
	POR X15, X0
	MOVOU X0, (DI)
	ADDQ $12, SI
	ADDQ $16, DI
	DECQ CX
	JNZ exloop

exdone:
	RET

// Weights of the bytes of a 32-byte block in the Adler-32's second sum.
DATA adlerWeights<>+0(SB)/8, $0x191a1b1c1d1e1f20
DATA adlerWeights<>+8(SB)/8, $0x1112131415161718
DATA adlerWeights<>+16(SB)/8, $0x090a0b0c0d0e0f10
DATA adlerWeights<>+24(SB)/8, $0x0102030405060708
GLOBL adlerWeights<>(SB), RODATA|NOPTR, $32

// func adlerAVX2(p *byte, n int, acc *[3][8]uint32): n a multiple of 32,
// at most 32768. Over the blocks of 32 bytes b_k it sums, lane by lane,
// acc[0] = Σ_k bytes of b_k, acc[1] = Σ_k Σ_{j<k} bytes of b_j (acc[0]
// before each block) and acc[2] = Σ_k Σ_i (32-i)·b_k[i]; adlerUpdate
// combines them (the lanes cannot overflow for n ≤ 32768).
TEXT ·adlerAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ acc+16(FP), DI
	VPXOR Y0, Y0, Y0        // zero
	VPXOR Y1, Y1, Y1        // byte sums (64-bit lanes)
	VPXOR Y2, Y2, Y2        // byte sums before each block
	VPXOR Y3, Y3, Y3        // weighted sums
	VMOVDQU adlerWeights<>(SB), Y4
	VPCMPEQW Y5, Y5, Y5
	VPSRLW $15, Y5, Y5      // 1 in every word
	SHRQ $5, CX
	JZ addone

adloop:
	VMOVDQU (SI), Y6
	VPADDD Y1, Y2, Y2
	VPSADBW Y0, Y6, Y7
	VPADDD Y7, Y1, Y1
	VPMADDUBSW Y4, Y6, Y8   // bytes (unsigned) × weights: 16 words
	VPMADDWD Y5, Y8, Y8     // pairs of words: 8 dwords
	VPADDD Y8, Y3, Y3
	ADDQ $32, SI
	DECQ CX
	JNZ adloop

addone:
	VMOVDQU Y1, 0(DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VZEROUPPER
	RET
