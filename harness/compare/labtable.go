package compare

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/regen-dev/regen/harness/compare/internal/hugepage"
)

// labTable memoises oklab8 for one pass over an image or a pair, shared by
// the pass's concurrent tasks (bands of rows, or grid cells in scanPair):
// each distinct colour is converted once per pass, not once per task and
// again after every eviction. (The noisy 1024²
// fixture pair has 110 k distinct colours; four per-band direct-mapped
// caches of 16 k entries converted 334 k times, at ≈ 58 ns a conversion.)
//
// It is an open-addressing table that only grows during a pass: a slot,
// once it holds a colour, keeps it. A task claims an empty slot with a
// compare-and-swap, converts, stores the value, then publishes the slot
// (an atomic store of the key); a reader that loads the published key
// sees the value. A colour claimed by another task and not yet published,
// or one that finds no slot within labProbes, is converted on the spot.
// Every path gives oklab8's value, so what the table held, and the
// schedule, change the speed and never a bit.
type labTable struct {
	slots []labSlot
	used  bool   // slots may hold colours: a pooled table is cleared before reuse
	shift uint32 // 32 − log2(len(slots)): the hash's top bits index the table
	mask  uint32
}

// labSlot is one slot of a labTable: 16 bytes, key and value in one cache
// line.
type labSlot struct {
	key uint32 // 0: empty; colour|labClaimed while being set; colour|labReady once set
	lab [3]float32
}

const (
	labReady   = 1 << 24
	labClaimed = 1 << 25
	labColour  = 1<<24 - 1
	// labProbes bounds a look-up's linear probe: a table too small for an
	// image's colours degrades to converting, never to a long search.
	labProbes = 16
	// labMinBits and labMaxBits bound a table's size: 1 k slots (16 KiB)
	// to 256 k slots (4 MiB, ≈ 2.4× the 1024² fixture pair's colours).
	labMinBits = 10
	labMaxBits = 18
)

// labTables recycles the largest tables between passes (cleared on reuse;
// a new one is not: its memory is zero, and its pages are touched first
// by the pass's tasks, on every core, rather than by one clear).
// Its 4 MiB are on huge pages (hugepage.Make): 2 page faults instead of
// 1 024, and 2 TLB entries for the look-ups that land all over it.
var labTables = sync.Pool{New: func() any {
	return &labTable{slots: hugepage.Make[labSlot](1 << labMaxBits), shift: 32 - labMaxBits, mask: 1<<labMaxBits - 1}
}}

// newLabTable returns an empty table for a pass over pixels pixels (of one
// or both images): twice as many slots as pixels, within the bounds.
// Release it with put when the pass is over.
func newLabTable(pixels int) *labTable {
	b := max(labMinBits, min(labMaxBits, bits.Len(uint(2*pixels))))
	if b == labMaxBits {
		t := labTables.Get().(*labTable)
		if t.used {
			clear(t.slots)
		}
		t.used = true
		return t
	}
	return &labTable{slots: make([]labSlot, 1<<b), shift: uint32(32 - b), mask: 1<<b - 1}
}

// put gives a table back for reuse; its values must no longer be read.
func (t *labTable) put() {
	if len(t.slots) == 1<<labMaxBits {
		labTables.Put(t)
	}
}

// get returns oklab8(r, g, b). Safe for concurrent use. The first probe
// is inlined: most look-ups end there.
func (t *labTable) get(r, g, b uint8) [3]float32 {
	c := uint32(r)<<16 | uint32(g)<<8 | uint32(b)
	i := ((c | labReady) * 2654435761) >> t.shift // Fibonacci hashing
	if e := &t.slots[i]; atomic.LoadUint32(&e.key) == c|labReady {
		return e.lab
	}
	return t.insert(c, i)
}

// insert is get past the first probe: it finds colour c's slot from slot i
// on, or claims an empty one and converts c into it.
func (t *labTable) insert(c, i uint32) [3]float32 {
	want := c | labReady
	r, g, b := uint8(c>>16), uint8(c>>8), uint8(c)
	for range labProbes {
		e := &t.slots[i]
		k := atomic.LoadUint32(&e.key)
		if k == want {
			return e.lab
		}
		if k == 0 {
			if atomic.CompareAndSwapUint32(&e.key, 0, c|labClaimed) {
				v := oklab8(r, g, b)
				e.lab = v
				atomic.StoreUint32(&e.key, want)
				return v
			}
			// Another task took the slot first: with this colour or
			// another.
			if k = atomic.LoadUint32(&e.key); k == want {
				return e.lab
			}
		}
		if k&labColour == c { // claimed by another task, not yet published
			break
		}
		i = (i + 1) & t.mask
	}
	return oklab8(r, g, b)
}

// lookRow sets out[x] to the OKLab colour of pixel x of row (NRGBA bytes)
// and, given grow, gout[x] to that of grow's pixel x, for a scan's row.
// The look-ups are gathered in a loop of their own, before the row's sums:
// a look-up is a load from a table of megabytes (its cost is the wait for
// memory), and a short loop whose loads do not wait on each other keeps
// several of them in flight, where the long loop of the sums kept one.
// Every pixel is looked up, each side in a loop of its own: skipping a
// colour equal to the last one (as the pass did: 1.1 instead of 2 look-ups
// a pixel on the noisy fixture pair) put a branch that goes either way at
// random between the loads, and measured no faster.
func (t *labTable) lookRow(out, gout [][3]float32, row, grow []byte) {
	slots, shift, mask := t.slots, t.shift, t.mask
	look := func(p []byte) [3]float32 {
		k := uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2]) | labReady
		i := (k * 2654435761) >> shift
		if e := &slots[i&mask]; atomic.LoadUint32(&e.key) == k {
			return e.lab
		}
		return t.insert(k&labColour, i)
	}
	if grow != nil {
		for x := range gout {
			gout[x] = look(grow[4*x : 4*x+4 : 4*x+4])
		}
	}
	for x := range out {
		out[x] = look(row[4*x : 4*x+4 : 4*x+4])
	}
}
