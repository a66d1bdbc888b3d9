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
	ex   []float32    // [K,C,h,w] exemplars at h×w
	bias []float32    // [K] log prior

	B, C, K, h, w int
	r, d          int // patch radius, patch values P²·C
	T, W          int // tile edge, window
	v, a          float64
}

// elsScratch is one worker's buffers: a tile's key bank (patches, centre
// values, biases), its queries and its attention output.
type elsScratch struct {
	q, keys, vals, kb, o []float32
}

func (j *elsJob) newScratch() *elsScratch {
	maxPos := min(j.T+2*j.W, j.h) * min(j.T+2*j.W, j.w)
	return &elsScratch{
		q:    make([]float32, j.T*j.T*j.d),
		keys: make([]float32, j.K*maxPos*j.d),
		vals: make([]float32, j.K*maxPos*j.C),
		kb:   make([]float32, j.K*maxPos),
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
func (j *elsJob) run(ctx context.Context, workers int) error {
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
		ex := j.ex[k*plane : (k+1)*plane]
		for py := cy0; py < cy1; py++ {
			for px := cx0; px < cx1; px++ {
				extractPatch(s.keys[nk*d:], ex, C, h, w, py, px, r)
				for ch := 0; ch < C; ch++ {
					s.vals[nk*C+ch] = ex[(ch*h+py)*w+px]
				}
				s.kb[nk] = j.bias[k]
				nk++
			}
		}
	}
	for b := 0; b < j.B; b++ {
		img := j.x.Data[b*plane : (b+1)*plane]
		nq := 0
		for y := ty0; y < ty1; y++ {
			for xx := tx0; xx < tx1; xx++ {
				extractPatch(s.q[nq*d:], img, C, h, w, y, xx, r)
				nq++
			}
		}
		err := j.be.Attention(ctx, &backend.AttentionArgs{NQ: nq, NK: nk, D: d, DV: C,
			Q: s.q[:nq*d], K: s.keys[:nk*d], Bias: s.kb[:nk], V: s.vals[:nk*C], Variance: float32(j.v), Out: s.o[:nq*C]})
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
