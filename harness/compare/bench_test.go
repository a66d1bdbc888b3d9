package compare

import (
	"bytes"
	"image/png"
	"testing"
)

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
	for b.Loop() {
		if r := Compare(Input{PNG: golden}, Input{PNG: got}, Options{}); r.Verdict != PassApprox {
			b.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
		}
	}
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

// BenchmarkDecode1024 is the PNG decoding share of the above.
func BenchmarkDecode1024(b *testing.B) {
	golden, _ := benchPair(b)
	for b.Loop() {
		if _, err := png.Decode(bytes.NewReader(golden)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewRecord1024 is the analysis of one decoded image.
func BenchmarkNewRecord1024(b *testing.B) {
	golden, _ := benchPair(b)
	img, err := png.Decode(bytes.NewReader(golden))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := NewRecord(img, golden); err != nil {
			b.Fatal(err)
		}
	}
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
// both PNGs decoded and their pixels hashed, one after the other.
func BenchmarkDecodeHash1024Pair(b *testing.B) {
	golden, _ := benchPair(b)
	got := bytes.Clone(golden)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range [][]byte{golden, got} {
			img, err := png.Decode(bytes.NewReader(f))
			if err != nil {
				b.Fatal(err)
			}
			_ = pixelSHA256(toNRGBA(img))
		}
	}
}
