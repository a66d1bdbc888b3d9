package lsbnoise

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// TestApply: alpha never moves, every other value moves by at most one,
// about a quarter of them move, the clamp holds at 0 and 255, and the
// stream is pinned (the benchmark pair must not change under a refactor).
func TestApply(t *testing.T) {
	t.Parallel()
	const n = 4 * 4096
	pix := make([]byte, n)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	orig := append([]byte(nil), pix...)
	Apply(pix)
	moved := 0
	for i := range pix {
		d := int(pix[i]) - int(orig[i])
		switch {
		case i%4 == 3 && d != 0:
			t.Fatalf("alpha %d moved by %d", i, d)
		case d < -1 || d > 1:
			t.Fatalf("value %d moved by %d", i, d)
		case orig[i] == 255 && d > 0, orig[i] == 0 && d < 0:
			t.Fatalf("value %d (%d) not clamped: moved by %d", i, orig[i], d)
		case d != 0:
			moved++
		}
	}
	if frac := float64(moved) / (n * 3 / 4); frac < 0.2 || frac > 0.3 {
		t.Errorf("%.3f of the colour values moved, want about a quarter", frac)
	}
	const want = "520dc27966e71cbeac4028e49332aa454dbcea5439be86d42bbe1a04673fbd0c"
	if got := fmt.Sprintf("%x", sha256.Sum256(pix)); got != want {
		t.Errorf("noise stream changed: sha256 %s, want %s", got, want)
	}
}
