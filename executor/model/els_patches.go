package model

import (
	"sync"
)

// patchImages is a stack of n images of c channels, h×w, stored channel-last
// with pad rows and columns replicated from the edge on every side, so that
// the P×P×C patch that extractPatch gathers (order dy, dx, c, clamped at the
// borders) is P contiguous runs of P·C values here, for any P ≤ 2·pad+1: a
// copy each instead of P²·C clamped reads across channel planes. The values
// are the same float32s, so every patch is bit-identical to extractPatch's.
type patchImages struct {
	n, c, h, w int
	pad        int
	hp, wp     int       // h+2·pad, w+2·pad
	data       []float32 // [n][hp][wp][c]
}

// newPatchImages lays out src ([n][c][h][w]) with pad replicated borders.
func newPatchImages(src []float32, n, c, h, w, pad int) *patchImages {
	p := &patchImages{n: n, c: c, h: h, w: w, pad: pad, hp: h + 2*pad, wp: w + 2*pad}
	p.data = make([]float32, n*p.hp*p.wp*c)
	for i := range n {
		for yp := range p.hp {
			y := clampInt(yp-pad, 0, h-1)
			row := p.data[(i*p.hp+yp)*p.wp*c : (i*p.hp+yp+1)*p.wp*c]
			for xp := range p.wp {
				x := clampInt(xp-pad, 0, w-1)
				for ch := range c {
					row[xp*c+ch] = src[((i*c+ch)*h+y)*w+x]
				}
			}
		}
	}
	return p
}

// patch writes the P×P×C patch (P = 2r+1, r ≤ pad) of image i centred on
// (y, x) into dst: extractPatch's values in extractPatch's order.
func (p *patchImages) patch(dst []float32, i, y, x, r int) {
	run := (2*r + 1) * p.c
	src := ((i*p.hp+y+p.pad-r)*p.wp + x + p.pad - r) * p.c
	stride := p.wp * p.c
	for dy := range 2*r + 1 {
		copy(dst[dy*run:(dy+1)*run], p.data[src:src+run])
		src += stride
	}
}

// pixel returns the c values of image i at (y, x).
func (p *patchImages) pixel(i, y, x int) []float32 {
	o := ((i*p.hp+y+p.pad)*p.wp + x + p.pad) * p.c
	return p.data[o : o+p.c]
}

// sqNorms returns ‖patch‖² of every P×P×C patch (P = 2r+1) of every image,
// [n][h][w], each summed in float64 over the patch's values in order
// (products of float32 values, exact in float64): what the CPU backend
// computes for a key itself, so it may be given as AttentionArgs.KNorm64.
func (p *patchImages) sqNorms(r int) []float64 {
	out := make([]float64, p.n*p.h*p.w)
	run := (2*r + 1) * p.c
	stride := p.wp * p.c
	for i := range p.n {
		for y := range p.h {
			for x := range p.w {
				src := ((i*p.hp+y+p.pad-r)*p.wp + x + p.pad - r) * p.c
				var s float64
				for range 2*r + 1 {
					for _, v := range p.data[src : src+run] {
						s += float64(float64(v) * float64(v))
					}
					src += stride
				}
				out[(i*p.h+y)*p.w+x] = s
			}
		}
	}
	return out
}

// elsBank is what els reads of the exemplars at one latent size, built on
// first use and kept with the size (sized.els): the exemplars as
// patchImages, padded for the largest patch of the schedule, and the key
// norms per patch size. The exemplars do not change between steps, so a
// key's patch and norm are the same at every step of that patch size; the
// backend would otherwise sum each norm again for every tile whose window
// holds the key (up to ⌈(Tile+2·Window)/Tile⌉² tiles) and every batch item.
type elsBank struct {
	once sync.Once
	ex   *patchImages

	mu    sync.Mutex
	norms map[int][]float64 // by patch radius: [K][h][w]
}

// get returns the exemplars ex ([K][C][h][w]) as patchImages with pad
// replicated borders (the first call's pad, lat and sizes are kept) and
// the norms of their patches of radius r ≤ pad.
func (b *elsBank) get(ex []float32, K, C, h, w, pad, r int) (*patchImages, []float64) {
	b.once.Do(func() { b.ex = newPatchImages(ex, K, C, h, w, pad) })
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.norms == nil {
		b.norms = map[int][]float64{}
	}
	n, ok := b.norms[r]
	if !ok {
		n = b.ex.sqNorms(r)
		b.norms[r] = n
	}
	return b.ex, n
}

// maxPatchRadius is the largest patch radius of the schedule.
func (c *Config) maxPatchRadius() int {
	r := 0
	for _, p := range c.Patches {
		r = max(r, p.Size/2)
	}
	return r
}
