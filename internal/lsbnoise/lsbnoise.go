// Package lsbnoise is the comparator's benchmark edit: a ±1 LSB change in
// a quarter of an image's colour values, from a fixed xorshift64 stream,
// so the same noisy copy of a golden comes out on every machine.
// hack/comparepair writes it for hack/comparebench.sh, and the compare and
// pngdecode benchmarks apply it in process: they measure the same pair.
package lsbnoise

// Apply changes pix, 8-bit RGBA samples (image.NRGBA's Pix), in place:
// each colour value (alpha is skipped) draws one xorshift64 number; 1 in
// 8 goes up by one, 1 in 8 down by one, clamped to 0..255.
func Apply(pix []byte) {
	s := uint64(0x9e3779b97f4a7c15)
	for i := range pix {
		if i%4 == 3 {
			continue
		}
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		switch v := pix[i]; {
		case s%8 == 0 && v < 255:
			pix[i] = v + 1
		case s%8 == 1 && v > 0:
			pix[i] = v - 1
		}
	}
}
