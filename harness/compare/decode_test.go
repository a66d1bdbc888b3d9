package compare

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// TestCompareDecodeErrors: the two sides are decoded concurrently, and a
// side that cannot be decoded is reported as before, with the same
// message; when both fail, the output's error is the one reported,
// whichever decode finishes first (each case runs many times).
func TestCompareDecodeErrors(t *testing.T) {
	t.Parallel()
	good := encodePNG(t, synth(21, 40, 30).quantise(nil))
	notPNG := []byte("GIF89a, not a PNG")
	truncated := good[:len(good)/2]
	// A valid header claiming 60000×60000 pixels over a few bytes of image
	// data: refused before anything is allocated (pngdecode.ErrTooLarge).
	huge := append([]byte(nil), good[:16]...)
	huge = append(huge, 0, 0, 0xea, 0x60, 0, 0, 0xea, 0x60)
	huge = append(huge, good[24:]...)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29])) // IHDR's CRC
	const (
		notPNGErr    = "decode png: png: invalid format: not a PNG file"
		truncatedErr = "decode png: png: invalid format: not enough pixel data"
	)
	tests := []struct {
		name           string
		golden, output []byte
		want           string
	}{
		{"golden not a PNG", notPNG, good, "read golden: " + notPNGErr},
		{"golden truncated", truncated, good, "read golden: " + truncatedErr},
		{"output not a PNG", good, notPNG, "read output: " + notPNGErr},
		{"output truncated", good, truncated, "read output: " + truncatedErr},
		{"both fail: the output's error", truncated, notPNG, "read output: " + notPNGErr},
		{"both fail, the other way round", notPNG, truncated, "read output: " + truncatedErr},
		{"golden too large", huge, good, "read golden: decode png: png image data too short for its dimensions: 60000×60000 needs"},
		{"both fail, the golden too large", huge, truncated, "read output: " + truncatedErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 20 {
				r := Compare(Input{PNG: tt.golden}, Input{PNG: tt.output}, Options{})
				if r.Verdict != Error || len(r.Reason) < len(tt.want) || r.Reason[:len(tt.want)] != tt.want {
					t.Fatalf("%s: %q, want an error starting %q", r.Verdict, r.Reason, tt.want)
				}
			}
		})
	}
}
