package pngdecode

import (
	"bytes"
	"fmt"
	"hash/adler32"
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"
)

// unfilterPath is one way to unfilter a row: the pure-Go path or a
// kernel set.
type unfilterPath struct {
	name   string
	fn     func(ft byte, cur, prev []byte, bpp int) error
	expand func(out, in []byte)
	adler  func(adler uint32, p []byte) uint32
}

// unfilterPaths lists the pure-Go path and every kernel set this CPU
// runs.
func unfilterPaths() []unfilterPath {
	paths := []unfilterPath{{"go", unfilterGo, expandRGBGo, func(a uint32, p []byte) uint32 { return (&adlerSummer{}).update(a, p) }}}
	for _, k := range allKernels() {
		paths = append(paths, unfilterPath{
			name:   k.name,
			fn:     func(ft byte, cur, prev []byte, bpp int) error { return unfilterWith(k, ft, cur, prev, bpp) },
			expand: func(out, in []byte) { expandRGBWith(k, out, in) },
			adler:  func(a uint32, p []byte) uint32 { return (&adlerSummer{k: k}).update(a, p) },
		})
	}
	return paths
}

// TestKernelsAvailable: on an amd64 CPU with SSSE3 (and AVX2) the kernels
// are built, found and used, so the tests below test something.
func TestKernelsAvailable(t *testing.T) {
	t.Parallel()
	if !simdBuilt || runtime.GOARCH != "amd64" || !cpu.X86.HasSSSE3 {
		t.Skipf("no kernels in this build (%s, purego?) or no SSSE3: only the pure-Go path runs", runtime.GOARCH)
	}
	want := 1
	if cpu.X86.HasAVX2 {
		want = 2
	}
	if got := len(allKernels()); got != want {
		t.Fatalf("%d kernel sets, want %d", got, want)
	}
	if kernels != allKernels()[0] {
		t.Fatalf("unfilter uses %v, want the best set %s", kernels, allKernels()[0].name)
	}
}

// unfilterRef is the PNG specification's unfilter, byte by byte, with
// the Paeth predictor as the specification writes it: what both paths
// must compute.
func unfilterRef(ft byte, cur, prev []byte, bpp int) {
	for i := range cur {
		cur[i] += byte(predictRef(ft, cur, prev, i, bpp))
	}
}

// predictRef is the specification's predictor of byte i of a row for
// filter ft, from the unfiltered row cur (bytes before i) and the
// unfiltered row above, prev: unfilterRef adds it, filterRow subtracts it.
func predictRef(ft byte, cur, prev []byte, i, bpp int) int {
	at := func(s []byte, i int) int {
		if i < 0 {
			return 0
		}
		return int(s[i])
	}
	a, b, c := at(cur, i-bpp), int(prev[i]), at(prev, i-bpp)
	switch ft {
	case ftSub:
		return a
	case ftUp:
		return b
	case ftAverage:
		return (a + b) / 2
	case ftPaeth:
		p := a + b - c
		pa, pb, pc := max(p-a, a-p), max(p-b, b-p), max(p-c, c-p)
		switch {
		case pa <= pb && pa <= pc:
			return a
		case pb <= pc:
			return b
		default:
			return c
		}
	}
	return 0
}

// rowPatterns fill a row (and the one above) with random and adversarial
// bytes: extremes that wrap every sum, ties between the Paeth distances,
// and runs where each predictor wins.
var rowPatterns = []struct {
	name string
	fill func(r *rand.Rand, i int) byte
}{
	{"random", func(r *rand.Rand, i int) byte { return byte(r.Uint32()) }},
	{"zeros", func(*rand.Rand, int) byte { return 0 }},
	{"ones", func(*rand.Rand, int) byte { return 0xff }},
	{"alternate", func(_ *rand.Rand, i int) byte { return byte(-(i / 3 & 1)) }},
	{"extremes", func(r *rand.Rand, _ int) byte { return []byte{0, 1, 127, 128, 129, 254, 255}[r.IntN(7)] }},
	{"smooth", func(r *rand.Rand, i int) byte { return byte(i*3 + r.IntN(5)) }},
	{"ties", func(r *rand.Rand, _ int) byte { return byte(r.IntN(3) * 64) }},
}

// TestUnfilterMatchesReference holds unfilterGo and every kernel set this
// CPU runs to the specification's bytes: every
// filter type, bpp 1 to 4, widths 1 to 67 pixels, random and adversarial
// rows, rows that are slices of a larger buffer (bytes after the row must
// stay untouched).
func TestUnfilterMatchesReference(t *testing.T) {
	t.Parallel()
	for _, p := range unfilterPaths() {
		for bpp := 1; bpp <= 4; bpp++ {
			for ft := byte(ftNone); ft <= ftPaeth; ft++ {
				t.Run(fmt.Sprintf("%s/bpp%d/filter%d", p.name, bpp, ft), func(t *testing.T) {
					t.Parallel()
					r := rand.New(rand.NewPCG(uint64(bpp), uint64(ft)))
					for _, pat := range rowPatterns {
						for w := 1; w <= 67; w++ {
							n := w * bpp
							// A guard after each row: a kernel must not write past it.
							buf := make([]byte, n+16)
							prev := make([]byte, n+16)
							for i := range buf {
								buf[i], prev[i] = pat.fill(r, i), pat.fill(r, i+1)
							}
							want := bytes.Clone(buf)
							unfilterRef(ft, want[:n], prev[:n], bpp)
							if err := p.fn(ft, buf[:n], prev[:n], bpp); err != nil {
								t.Fatal(err)
							}
							if !bytes.Equal(buf, want) {
								t.Fatalf("%s, width %d: got\n%v\nwant\n%v", pat.name, w, buf, want)
							}
						}
					}
				})
			}
		}
	}
}

// TestExpandRGB: every path stores each RGB pixel as opaque NRGBA, for
// every width, and writes nothing past 4·w bytes.
func TestExpandRGB(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range unfilterPaths() {
		for w := 1; w <= 67; w++ {
			in := make([]byte, 3*w)
			for i := range in {
				in[i] = byte(r.Uint32())
			}
			got := make([]byte, 4*w+16)
			for i := range got {
				got[i] = 0x5a
			}
			p.expand(got[:4*w], in)
			for x := range w {
				if !bytes.Equal(got[4*x:4*x+4], []byte{in[3*x], in[3*x+1], in[3*x+2], 0xff}) {
					t.Fatalf("%s, width %d, pixel %d: %v from %v", p.name, w, x, got[4*x:4*x+4], in[3*x:3*x+3])
				}
			}
			for i, v := range got[4*w:] {
				if v != 0x5a {
					t.Fatalf("%s, width %d: byte %d after the row written", p.name, w, i)
				}
			}
		}
	}
}

// BenchmarkUnfilter times each filter type on a 1024-pixel row, every
// path, for bpp 3 (the goldens' RGB) and 4.
func BenchmarkUnfilter(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, bpp := range []int{3, 4} {
		n := 1024 * bpp
		prev, row := make([]byte, n), make([]byte, n)
		for i := range row {
			row[i], prev[i] = byte(r.IntN(256)), byte(r.IntN(256))
		}
		cur := make([]byte, n)
		for ft := byte(ftSub); ft <= ftPaeth; ft++ {
			for _, p := range unfilterPaths() {
				b.Run(fmt.Sprintf("bpp%d/%s/%s", bpp, []string{"none", "sub", "up", "average", "paeth"}[ft], p.name), func(b *testing.B) {
					b.SetBytes(int64(n))
					for b.Loop() {
						copy(cur, row)
						if err := p.fn(ft, cur, prev, bpp); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkExpandRGB times the RGB to NRGBA copy of a 1024-pixel row.
func BenchmarkExpandRGB(b *testing.B) {
	in, out := make([]byte, 3*1024), make([]byte, 4*1024)
	for _, p := range unfilterPaths() {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(out)))
			for b.Loop() {
				p.expand(out, in)
			}
		})
	}
}

// TestAdlerMatchesStd: every path's adlerSummer gives hash/adler32's sum
// for lengths 0 to past 32768 (where the vector kernel's sums are
// reduced), random bytes and all 0xff (the largest sums), split at
// random points (the running state carried).
func TestAdlerMatchesStd(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range unfilterPaths() {
		for _, n := range []int{0, 1, 31, 32, 33, 63, 64, 100, 3073, 5552, 5553, 32767, 32768, 32769, 70000, 200003} {
			for _, fill := range []string{"random", "ones"} {
				data := make([]byte, n)
				for i := range data {
					data[i] = 0xff
					if fill == "random" {
						data[i] = byte(r.Uint32())
					}
				}
				want := adler32.Checksum(data)
				if got := p.adler(1, data); got != want {
					t.Fatalf("%s, %d bytes (%s): %08x, want %08x", p.name, n, fill, got, want)
				}
				cut := 0
				if n > 0 {
					cut = r.IntN(n)
				}
				if got := p.adler(p.adler(1, data[:cut]), data[cut:]); got != want {
					t.Fatalf("%s, %d bytes (%s) split at %d: %08x, want %08x", p.name, n, fill, cut, got, want)
				}
			}
		}
	}
}

// BenchmarkAdler times the Adler-32 of a 1024-pixel RGB row and its
// filter byte, every path and hash/adler32.
func BenchmarkAdler(b *testing.B) {
	row := make([]byte, 1+3*1024)
	for i := range row {
		row[i] = byte(i * 7)
	}
	for _, p := range unfilterPaths() {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(row)))
			for b.Loop() {
				p.adler(1, row)
			}
		})
	}
	b.Run("hash-adler32", func(b *testing.B) {
		b.SetBytes(int64(len(row)))
		for b.Loop() {
			adler32.Checksum(row)
		}
	})
}
