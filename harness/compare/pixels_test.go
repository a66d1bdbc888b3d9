package compare

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"strings"
	"testing"
)

// TestPixelHasher: a pixelHasher's sum is the SHA-256 of the pixels
// however its steps went: stopped before the first, after some, or never,
// on images smaller and larger than a step, and not a multiple of one.
func TestPixelHasher(t *testing.T) {
	t.Parallel()
	for _, side := range []int{1, 7, 300, 1024} {
		img := image.NewNRGBA(image.Rect(0, 0, side, side+1))
		for i := range img.Pix {
			img.Pix[i] = byte(i*31 + i>>9)
		}
		want := sha256.Sum256(img.Pix)
		for _, steps := range []int{0, 1, 2, -1} { // -1: until stop, never closed
			t.Run(fmt.Sprintf("%d/steps=%d", side, steps), func(t *testing.T) {
				t.Parallel()
				h := newPixelHasher(img)
				stop := make(chan struct{})
				if steps >= 0 {
					close(stop)
					for range steps { // a step of its own, past the closed stop
						h.h.Write(h.pix[h.done : h.done+min(hashStep, len(h.pix)-h.done)])
						h.done += min(hashStep, len(h.pix)-h.done)
					}
				}
				h.until(stop)
				if steps == -1 && h.done != len(h.pix) {
					t.Errorf("until with stop open hashed %d of %d bytes", h.done, len(h.pix))
				}
				if steps == 0 && h.done != 0 {
					t.Errorf("until with stop closed hashed %d bytes, want 0", h.done)
				}
				if got := h.sum(); got != hex.EncodeToString(want[:]) {
					t.Errorf("sum = %s, want %x", got, want)
				}
				if got := pixelSHA256(img); got != hex.EncodeToString(want[:]) {
					t.Errorf("pixelSHA256 = %s, want %x", got, want)
				}
			})
		}
	}
}

// TestCompareHashes: the output record's hash is the SHA-256 of the
// output's pixels on every path of Compare's hashing (each side hashed in
// steps while the other decodes, finished where needed): identical pixels
// (encoded twice, or the same file), differing pixels (both finished
// beside the pass), a golden given with its record (hashed whole), a
// golden record alone, and a golden of another size.
func TestCompareHashes(t *testing.T) {
	t.Parallel()
	mk := func(side int, seed byte) *image.NRGBA {
		img := image.NewNRGBA(image.Rect(0, 0, side, side))
		for i := range img.Pix {
			img.Pix[i] = byte(i*13+i>>7) ^ seed
			if i%4 == 3 {
				img.Pix[i] = 255
			}
		}
		return img
	}
	gold, other, small := mk(700, 0), mk(700, 1), mk(64, 0)
	goldPNG := encodePNG(t, gold)
	goldRec, err := NewRecord(gold, goldPNG)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	again := encodePNG(t, gold, textChunk("note", "the same pixels, another file"))
	tests := []struct {
		name      string
		golden    Input
		out       []byte
		outPixels *image.NRGBA
	}{
		{"identical", Input{PNG: goldPNG}, again, gold},
		{"same file", Input{PNG: goldPNG}, goldPNG, gold},
		{"identical, golden with record", Input{PNG: goldPNG, Record: goldRec}, again, gold},
		{"differ", Input{PNG: goldPNG}, encodePNG(t, other), other},
		{"golden with record", Input{PNG: goldPNG, Record: goldRec}, encodePNG(t, other), other},
		{"golden record alone", Input{Record: goldRec}, encodePNG(t, other), other},
		{"other size", Input{PNG: encodePNG(t, small)}, encodePNG(t, other), other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := Compare(tt.golden, Input{PNG: tt.out}, Options{})
			want := pixelSHA256(tt.outPixels)
			if res.OutputRecord == nil {
				// Identical to a golden without a record: no record,
				// the hash in tier 0's note.
				if len(res.Tiers) == 0 || !strings.Contains(res.Tiers[0].Note, "sha256 "+want[:12]) {
					t.Fatalf("no output record, and tier 0 does not name sha256 %s… (verdict %s: %s; tiers %+v)", want[:12], res.Verdict, res.Reason, res.Tiers)
				}
				return
			}
			if got := res.OutputRecord.SHA256; got != want {
				t.Errorf("output record sha256 = %s, want %s", got, want)
			}
		})
	}
}
