package model

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/node"
)

// elsJob is one els Predict: the read-only inputs shared by every worker
// and the output, of which each tile writes only its own positions.
type elsJob struct {
	be   backend.Attender
	x    *node.Tensor // [B,C,h,w] noisy latents
	out  *node.Tensor // [B,C,h,w] written, one tile's positions per task
	sz   *sized       // the exemplars at h×w (the first K of sz.lat)
	pad  int          // the largest patch radius of the schedule
	bias []float32    // [K] log prior

	// set by run: the exemplars and x laid out for patch copies (see
	// patchImages), and the norms of the exemplars' patches ([K,h,w])
	ex, xs *patchImages
	kn     []float64

	B, C, K, h, w int
	r, d          int // patch radius, patch values P²·C
	T, W          int // tile edge, window
	v, a          float64
}

// elsScratch is one worker's buffers: a tile's key bank (patches, centre
// values, biases), its queries and its attention output.
type elsScratch struct {
	q, keys, vals, kb, o []float32
	kn                   []float64
}

func (j *elsJob) newScratch() *elsScratch {
	maxPos := min(j.T+2*j.W, j.h) * min(j.T+2*j.W, j.w)
	return &elsScratch{
		q:    make([]float32, j.T*j.T*j.d),
		keys: make([]float32, j.K*maxPos*j.d),
		vals: make([]float32, j.K*maxPos*j.C),
		kb:   make([]float32, j.K*maxPos),
		kn:   make([]float64, j.K*maxPos),
		o:    make([]float32, j.T*j.T*j.C),
	}
}

// run computes j.out on up to workers goroutines. A task is one tile
// position: its key bank depends on the position only, so it is extracted
// once and then serves every batch item (one attention call each, exactly
// as the sequential code made it). Tasks are handed out in order from an
// atomic counter; each writes disjoint output positions with arithmetic
// that does not depend on which worker runs it or when, so the result is
// bit-identical for any worker count. The first error (cancellation
// included) stops the handing out of further tasks.
//
// Patches are copied from channel-last, border-padded layouts made once:
// x's per call, the exemplars' (and their patch norms) once per size and
// patch size (sized.els), since the exemplars never change.
func (j *elsJob) run(ctx context.Context, workers int) error {
	j.ex, j.kn = j.sz.els.get(j.sz.lat, j.K, j.C, j.h, j.w, j.pad, j.r)
	j.xs = newPatchImages(j.x.Data, j.B, j.C, j.h, j.w, j.r)
	ny, nx := (j.h+j.T-1)/j.T, (j.w+j.T-1)/j.T
	n := ny * nx
	workers = max(1, min(workers, n))
	if workers == 1 {
		s := j.newScratch()
		for t := range n {
			if err := j.tile(ctx, s, t/nx*j.T, t%nx*j.T); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		first  error
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			s := j.newScratch()
			for !failed.Load() {
				t := int(next.Add(1) - 1)
				if t >= n {
					return
				}
				if err := j.tile(ctx, s, t/nx*j.T, t%nx*j.T); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// tile computes the tile whose top-left position is (ty0, tx0) for every
// batch item, using only s for scratch.
func (j *elsJob) tile(ctx context.Context, s *elsScratch, ty0, tx0 int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	C, h, w, d, r := j.C, j.h, j.w, j.d, j.r
	plane := C * h * w
	ty1, tx1 := min(ty0+j.T, h), min(tx0+j.T, w)
	cy0, cy1 := max(0, ty0-j.W), min(h, ty1+j.W)
	cx0, cx1 := max(0, tx0-j.W), min(w, tx1+j.W)
	nk := 0
	for k := 0; k < j.K; k++ {
		for py := cy0; py < cy1; py++ {
			for px := cx0; px < cx1; px++ {
				j.ex.patch(s.keys[nk*d:(nk+1)*d], k, py, px, r)
				copy(s.vals[nk*C:(nk+1)*C], j.ex.pixel(k, py, px))
				s.kb[nk] = j.bias[k]
				s.kn[nk] = j.kn[(k*h+py)*w+px]
				nk++
			}
		}
	}
	for b := 0; b < j.B; b++ {
		nq := 0
		for y := ty0; y < ty1; y++ {
			for xx := tx0; xx < tx1; xx++ {
				j.xs.patch(s.q[nq*d:(nq+1)*d], b, y, xx, r)
				nq++
			}
		}
		err := j.be.Attention(ctx, &backend.AttentionArgs{NQ: nq, NK: nk, D: d, DV: C,
			Q: s.q[:nq*d], K: s.keys[:nk*d], KNorm64: s.kn[:nk], Bias: s.kb[:nk], V: s.vals[:nk*C], Variance: float32(j.v), Out: s.o[:nq*C]})
		if err != nil {
			return err
		}
		i := 0
		for y := ty0; y < ty1; y++ {
			for xx := tx0; xx < tx1; xx++ {
				for ch := 0; ch < C; ch++ {
					idx := b*plane + (ch*h+y)*w + xx
					mv := float64(s.o[i*C+ch])
					j.out.Data[idx] = float32(mv + float64(j.a*(float64(j.x.Data[idx])-mv)))
				}
				i++
			}
		}
	}
	return nil
}
