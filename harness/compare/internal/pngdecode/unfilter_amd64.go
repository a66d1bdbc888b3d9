//go:build !purego

package pngdecode

import "golang.org/x/sys/cpu"

// The kernels of unfilter_amd64.s. n counts pixels (paeth, avg, sub:
// pixels of 3 bytes need a readable fourth byte after the last), bytes
// (up: a multiple of the vector width), or groups of four pixels
// (expandRGB: 16 bytes readable at each).

//go:noescape
func paeth4AVX(cur, prev *byte, n int)

//go:noescape
func paeth3AVX(cur, prev *byte, n int)

//go:noescape
func paeth4SSSE3(cur, prev *byte, n int)

//go:noescape
func paeth3SSSE3(cur, prev *byte, n int)

//go:noescape
func avg4SSE2(cur, prev *byte, n int)

//go:noescape
func avg3SSE2(cur, prev *byte, n int)

//go:noescape
func sub4SSE2(cur *byte, n int)

//go:noescape
func sub3(cur *byte, n int)

//go:noescape
func upAVX2(cur, prev *byte, n int)

//go:noescape
func upSSE2(cur, prev *byte, n int)

//go:noescape
func expandRGBSSSE3(out, in *byte, n int)

//go:noescape
func adlerAVX2(p *byte, n int, acc *[3][8]uint32)

// simdBuilt says that this build has vector kernels.
const simdBuilt = true

var (
	// SSE2 is amd64's baseline; PABSW and PSHUFB are SSSE3's.
	ssse3Kernels = &rowKernels{
		name: "ssse3", paeth3: paeth3SSSE3, paeth4: paeth4SSSE3, avg3: avg3SSE2, avg4: avg4SSE2,
		sub3: sub3, sub4: sub4SSE2, up: upSSE2, upWidth: 16, expandRGB: expandRGBSSSE3,
	}
	// The AVX2 set: Up 32 bytes at a time, Paeth with VEX forms, the
	// Adler-32 32 bytes at a time.
	avx2Kernels = &rowKernels{
		name: "avx2", paeth3: paeth3AVX, paeth4: paeth4AVX, avg3: avg3SSE2, avg4: avg4SSE2,
		sub3: sub3, sub4: sub4SSE2, up: upAVX2, upWidth: 32, expandRGB: expandRGBSSSE3,
		adler: adlerAVX2,
	}
)

// allKernels lists every kernel set this CPU runs, the best first.
func allKernels() []*rowKernels {
	var ks []*rowKernels
	if cpu.X86.HasAVX2 && cpu.X86.HasSSSE3 {
		ks = append(ks, avx2Kernels)
	}
	if cpu.X86.HasSSSE3 {
		ks = append(ks, ssse3Kernels)
	}
	return ks
}
