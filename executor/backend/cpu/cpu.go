package cpu

import (
	"context"
	"runtime"
	"sync"

	"github.com/regen-dev/regen/executor/backend"
)

var _ backend.Backend = (*Backend)(nil)

// Backend is the CPU backend. It is safe for concurrent use.
type Backend struct {
	fp    backend.Fingerprint
	pool  sync.Pool // *scratch, one per worker
	vpool sync.Pool // *[]float64, K or V widened for a call
	// tune, when set (by tests), adjusts the blocking of each call.
	tune func(*plan)
	// simd, when set, runs the many-queries case on these vector kernels
	// (same bits as the pure-Go kernels; see simd.go).
	simd *simdKernels
}

// New returns a CPU backend. It reads /proc/cpuinfo once for the
// fingerprint.
func New() *Backend {
	return &Backend{
		fp: backend.Fingerprint{
			Backend:   "cpu",
			Device:    cpuModel(),
			Precision: "fp32",
			Class:     "cpu",
		},
		simd: detectSIMD(),
	}
}

// Name returns "cpu".
func (b *Backend) Name() string { return "cpu" }

// Fingerprint describes the CPU environment: the CPU model name, fp32, and
// the class "cpu" (results are bit-identical on any CPU, so goldens need no
// finer key).
func (b *Backend) Fingerprint() backend.Fingerprint { return b.fp }

// Close releases nothing.
func (b *Backend) Close() error { return nil }

// fewQueries is the query count below which a call is split by keys and
// columns instead of by query rows.
const fewQueries = 16

// widenQueries is the query count from which K and V are widened to
// float64 once per call.
const widenQueries = 256

func (b *Backend) plan(a *backend.AttentionArgs) plan {
	w := runtime.GOMAXPROCS(0)
	pl := plan{workers: w, byKeys: a.NQ < fewQueries}
	// Keys per L1 block of the logits (≈16 KiB of K as float32, 32 KiB
	// widened), and per task when split by keys; even, so that the 4×2
	// tiles fill.
	pl.keys = clamp(4096/max(a.D, 1), 2, 512) &^ 1
	if pl.byKeys {
		// At least ~4 tasks per worker so that a busy core does not hold
		// the others up.
		pl.keys = clamp(min(pl.keys, ceilDiv(a.NK, 4*w)), 2, 512)
		if b.simd != nil && b.simd.dots != nil {
			// The vector logits take keys 8 at a time.
			pl.keys = (max(pl.keys, 8) + 7) &^ 7
		}
		pl.cols = clamp(ceilDiv(a.DV, 4*w), 64, 1024)
	}
	// Rows per task: the logits of a block (float64, then overwritten by
	// the weights) stay within ~1 MiB, and there are several tasks per
	// worker.
	pl.rows = clamp(min((1<<20)/(8*max(a.NK, 1)), ceilDiv(a.NQ, 4*w)), 4, 64)
	pl.rows = (pl.rows + 3) &^ 3
	// Widening K and V to float64 costs a conversion and a store per
	// element, once, and a float64 copy; it saves a conversion per element
	// per 4 (keys) or 2 (values) query rows. Measured ~4% faster overall at
	// NQ = 1024 (GOAMD64=v1; nothing with FMA); not worth the memory for
	// small calls such as the model's els tiles (NQ = 16).
	pl.widen = a.NQ >= widenQueries
	pl.transpose = pl.widen && a.DV >= 16
	// Keys per block of the weighted sum: ≈64 KiB of widened V, or
	// ≈256 KiB of Vᵀ (read by every row group of a task from L2).
	pl.pvKeys = clamp(8192/max(a.DV, 1), 8, 4096)
	if pl.transpose {
		pl.pvKeys = clamp(32768/max(a.DV, 1), 64, 4096)
	}
	pl.normRun = clamp(ceilDiv(a.NK, 4*w), 16, 4096)
	// Below ~2 MFLOP, starting goroutines costs more than it saves.
	if 2*float64(a.NQ)*float64(a.NK)*float64(a.D+a.DV) < 2e6 {
		pl.workers = 1
	}
	if b.tune != nil {
		b.tune(&pl)
	}
	return pl
}

func clamp(x, lo, hi int) int { return max(lo, min(x, hi)) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (b *Backend) getScratch() *scratch {
	if s, ok := b.pool.Get().(*scratch); ok {
		return s
	}
	return new(scratch)
}

// parallel runs fn(s, t) for t = 0…n−1 on up to workers goroutines, each
// with its own scratch, and stops handing out tasks once ctx is done. Tasks
// write disjoint outputs, so which goroutine runs which task does not
// matter. It returns ctx.Err() if any task was skipped.
func (b *Backend) parallel(ctx context.Context, workers, n int, fn func(s *scratch, t int)) error {
	workers = min(workers, n)
	if workers <= 1 {
		s := b.getScratch()
		defer b.pool.Put(s)
		for t := range n {
			if err := ctx.Err(); err != nil {
				return err
			}
			fn(s, t)
		}
		return nil
	}
	tasks := make(chan int, n)
	for t := range n {
		tasks <- t
	}
	close(tasks)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			s := b.getScratch()
			defer b.pool.Put(s)
			for t := range tasks {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				fn(s, t)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
