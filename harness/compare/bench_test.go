package compare

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/lsbnoise"

	"github.com/regen-dev/regen/internal/cputime"
)

// reportCPU reports the CPU time per op (user + system, every goroutine)
// as cpu-ms/op; call it after the loop with the cputime.Process() read before it.
func reportCPU(b *testing.B, start time.Duration) {
	b.Helper()
	if start == 0 {
		return
	}
	b.ReportMetric(float64(cputime.Process()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// fixturePair is the committed 1024² golden and a copy with a ±1 LSB change
// in a quarter of its channel values (xorshift, as hack/comparepair
// writes it): every tier runs, the verdict is pass~.
func fixturePair(b *testing.B) (golden, got []byte) {
	b.Helper()
	golden, err := os.ReadFile(filepath.Join("..", "..", "golden", "cpu", "api-mixed-sd15-sdxl-refine", "default.seed-1.26-0.png"))
	if err != nil {
		b.Skipf("no 1024² fixture golden: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(golden))
	if err != nil {
		b.Fatal(err)
	}
	px := image.NewNRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(px, px.Rect, img, img.Bounds().Min, draw.Src)
	lsbnoise.Apply(px.Pix)
	return golden, encodePNG(b, px)
}

// BenchmarkCompareFixture1024 is `regen compare golden.png noisy.png` in
// process (hack/comparebench.sh times the whole process): both PNGs
// decoded, analysed and judged, no heat-map (regen compare draws one only
// with --diff).
func BenchmarkCompareFixture1024(b *testing.B) {
	golden, got := fixturePair(b)
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if r := Compare(Input{PNG: golden}, Input{PNG: got}, Options{NoDiff: true}); r.Verdict != PassApprox {
			b.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
		}
	}
	reportCPU(b, start)
}

// BenchmarkCompareFixture1024Identical is the identical pair of the above:
// the same pixels encoded again, so tier 0 decodes and hashes both files
// (its floor: BenchmarkDecodeHashFixture1024Pair).
func BenchmarkCompareFixture1024Identical(b *testing.B) {
	golden, _ := fixturePair(b)
	img, err := png.Decode(bytes.NewReader(golden))
	if err != nil {
		b.Fatal(err)
	}
	got := encodePNG(b, toNRGBA(img))
	if bytes.Equal(got, golden) {
		b.Fatal("the re-encoded golden has the same bytes")
	}
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if r := Compare(Input{PNG: golden}, Input{PNG: got}, Options{NoDiff: true}); r.Verdict != Pass {
			b.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
		}
	}
	reportCPU(b, start)
}

// BenchmarkCompareFixture1024SameFile is the same file on both sides (a
// deterministic output): decoded and hashed once.
func BenchmarkCompareFixture1024SameFile(b *testing.B) {
	golden, _ := fixturePair(b)
	got := bytes.Clone(golden)
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if r := Compare(Input{PNG: golden}, Input{PNG: got}, Options{NoDiff: true}); r.Verdict != Pass {
			b.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
		}
	}
	reportCPU(b, start)
}

// benchPair encodes a 1024² golden and a jittered output as PNG files.
func benchPair(b *testing.B) (golden, got []byte) {
	b.Helper()
	f := synth(99, 1024, 1024)
	return encodePNG(b, f.quantise(nil)), encodePNG(b, jitter(f, 99))
}

// BenchmarkCompare1024 is `regen compare`'s core: both PNGs decoded,
// analysed and judged, heat-map included.
func BenchmarkCompare1024(b *testing.B) {
	golden, got := benchPair(b)
	b.SetBytes(int64(len(golden) + len(got)))
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if r := Compare(Input{PNG: golden}, Input{PNG: got}, Options{}); r.Verdict != PassApprox {
			b.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
		}
	}
	reportCPU(b, start)
}

// BenchmarkCompare1024FromRecord judges against a stored golden record:
// one PNG decoded, tiers 0–3.
func BenchmarkCompare1024FromRecord(b *testing.B) {
	golden, got := benchPair(b)
	img, err := png.Decode(bytes.NewReader(golden))
	if err != nil {
		b.Fatal(err)
	}
	rec, err := NewRecord(img, golden)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := Compare(Input{Record: rec}, Input{PNG: got}, Options{}); r.Verdict != PassApprox {
			b.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
		}
	}
}

// BenchmarkDecode1024 is the PNG decoding share of the above (pngdecode's
// own benchmark compares it with image/png).
func BenchmarkDecode1024(b *testing.B) {
	golden, _ := benchPair(b)
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if _, err := decodePNG(golden); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkNewRecord1024 is the analysis of one decoded image.
func BenchmarkNewRecord1024(b *testing.B) {
	golden, _ := benchPair(b)
	img, err := png.Decode(bytes.NewReader(golden))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if _, err := NewRecord(img, golden); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkScanFixture1024 is the one pass over the pixels of the 1024²
// fixture golden that its record's statistics come from.
func BenchmarkScanFixture1024(b *testing.B) {
	golden, _ := fixturePair(b)
	img, err := png.Decode(bytes.NewReader(golden))
	if err != nil {
		b.Fatal(err)
	}
	px := toNRGBA(img)
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		scan(px)
	}
	reportCPU(b, start)
}

// BenchmarkScanPairFixture1024 is the one pass over the noisy fixture
// pair that both records' statistics and tier 4 come from (scanPair).
func BenchmarkScanPairFixture1024(b *testing.B) {
	golden, got := fixturePair(b)
	var px [2]*image.NRGBA
	for i, f := range [][]byte{golden, got} {
		img, err := decodePNG(f)
		if err != nil {
			b.Fatal(err)
		}
		px[i] = toNRGBA(img)
	}
	th := DefaultThresholds()
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		scanPair(px[1], px[0], th, true)
	}
	reportCPU(b, start)
}

// BenchmarkCompare1024Identical judges an output identical to its golden:
// tier 0 alone, i.e. both PNGs decoded and hashed (concurrently), nothing
// more. Compare with BenchmarkDecodeHash1024Pair.
func BenchmarkCompare1024Identical(b *testing.B) {
	golden, _ := benchPair(b)
	got := bytes.Clone(golden)
	b.ReportAllocs()
	for b.Loop() {
		if r := Compare(Input{PNG: golden}, Input{PNG: got}, Options{}); r.Verdict != Pass {
			b.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
		}
	}
}

// BenchmarkDecodeHash1024Pair is the floor of an identical comparison:
// both PNGs decoded (as Compare decodes them) and their pixels hashed,
// one after the other.
func BenchmarkDecodeHash1024Pair(b *testing.B) {
	golden, _ := benchPair(b)
	benchDecodeHash(b, golden, bytes.Clone(golden))
}

// BenchmarkDecodeHashFixture1024Pair is the floor of
// BenchmarkCompareFixture1024Identical: the fixture golden and the same
// pixels encoded again, decoded and hashed one after the other. The issue
// asks for an identical pair within 1.2× of it (CPU time).
func BenchmarkDecodeHashFixture1024Pair(b *testing.B) {
	golden, _ := fixturePair(b)
	img, err := png.Decode(bytes.NewReader(golden))
	if err != nil {
		b.Fatal(err)
	}
	benchDecodeHash(b, golden, encodePNG(b, toNRGBA(img)))
}

func benchDecodeHash(b *testing.B, files ...[]byte) {
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		for _, f := range files {
			img, err := decodePNG(f)
			if err != nil {
				b.Fatal(err)
			}
			_ = pixelSHA256(toNRGBA(img))
		}
	}
	reportCPU(b, start)
}
