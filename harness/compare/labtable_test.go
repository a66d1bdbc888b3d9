package compare

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestLabTable: concurrent look-ups give oklab8's value for every colour,
// black included, in a table with room to spare and in one far too small
// (most colours then find no slot and are converted on the spot), each
// colour looked up by several goroutines in different orders.
func TestLabTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		pixels, colours int
	}{
		{"roomy", 1 << 16, 20000},
		{"full", 1, 20000}, // labMinBits: 1024 slots
		{"pooled", 1 << 20, 50000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tab := newLabTable(tc.pixels)
			defer tab.put()
			rng := rand.New(rand.NewPCG(uint64(tc.colours), uint64(tc.pixels)))
			cols := make([]uint32, tc.colours)
			for i := range cols {
				cols[i] = rng.Uint32() & labColour
			}
			cols[0], cols[1] = 0, labColour // black and white
			const workers = 7
			var wg sync.WaitGroup
			for k := range workers {
				wg.Go(func() {
					bad := 0
					for i := range 2 * len(cols) {
						c := cols[(i*(2*k+1)+k)%len(cols)]
						r, g, b := uint8(c>>16), uint8(c>>8), uint8(c)
						if tab.get(r, g, b) != oklab8(r, g, b) {
							bad++
						}
					}
					if bad > 0 {
						t.Errorf("worker %d: %d look-ups differ from oklab8", k, bad)
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestLookRow: a row's look-ups give every pixel's oklab8 value, on both
// sides, with and without a golden row, across repeats and changes.
func TestLookRow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	const w = 300
	row, grow := make([]byte, 4*w), make([]byte, 4*w)
	for x := range w {
		for c := range 4 {
			grow[4*x+c] = uint8(rng.IntN(4) * 60)
			row[4*x+c] = grow[4*x+c]
			if rng.IntN(3) == 0 {
				row[4*x+c] += uint8(rng.IntN(3))
			}
		}
	}
	tab := newLabTable(2 * w)
	defer tab.put()
	out, gout := make([][3]float32, w), make([][3]float32, w)
	for _, g := range [][]byte{grow, nil} {
		tab.lookRow(out, gout, row, g)
		for x := range w {
			if want := oklab8(row[4*x], row[4*x+1], row[4*x+2]); out[x] != want {
				t.Fatalf("golden %t: pixel %d: %v, want %v", g != nil, x, out[x], want)
			}
			if want := oklab8(grow[4*x], grow[4*x+1], grow[4*x+2]); g != nil && gout[x] != want {
				t.Fatalf("golden pixel %d: %v, want %v", x, gout[x], want)
			}
		}
	}
}
