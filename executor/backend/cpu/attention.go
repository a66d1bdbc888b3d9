package cpu

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/backend"
)

// Attention computes a.Out (see backend.AttentionArgs) with the blocked
// kernel:
//
//  1. logits l_ij = ⟨q_i,k_j⟩/v − (‖q_i‖²/(2v) + (‖k_j‖²/(2v) − Bias[j])),
//     v = Variance, the norms and dot products accumulated in float64
//     (each pair in the order t = 0…D−1) from float32 inputs, so the
//     cancellation in the expansion costs ~1e-16 relative instead of
//     float32's ~1e-7·√D;
//  2. a two-pass softmax per row: p_ij = e^(l_ij − max_j l_ij) rounded to
//     float32, s_i = Σ_j p_ij in float64;
//  3. out_i = (Σ_j p_ij·V_j)/s_i, the sums in float64 (exact products of
//     float32 values) in order j = 0…NK−1, rounded to float32 at the end.
//
// Many queries (els, VAE decode) are split into blocks of rows, each block
// computed entirely by one goroutine; few queries (gmm) are split by keys
// for the logits and by output columns for the weighted sum. Every output
// value goes through the same operations in the same order whichever split
// runs and however many goroutines run it, so the result is bit-identical
// for any GOMAXPROCS. ctx is checked between blocks; on cancellation Out is
// left partly written and the error wraps ctx.Err().
func (b *Backend) Attention(ctx context.Context, a *backend.AttentionArgs) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	if a.NQ == 0 || a.DV == 0 {
		return nil
	}
	pl := b.plan(a)
	c := &call{a: a, pl: pl, inv2v: 1 / (2 * float64(a.Variance)), invV: 1 / float64(a.Variance)}
	if b.simd != nil {
		c.norms = b.simd.norms
	}
	var err error
	if pl.byKeys {
		err = b.attendFew(ctx, c)
	} else {
		err = b.attendMany(ctx, c)
	}
	if err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	return nil
}

// plan is the blocking of one call. None of its numbers changes the result,
// only the speed; tests vary them to prove it.
type plan struct {
	workers int
	byKeys  bool // few queries: split by keys, then by output columns
	widen   bool // convert K and V to float64 once, for many query blocks
	// transpose (with widen): V as Vᵀ, for the dot-form weighted sum of
	// wide value rows
	transpose bool
	rows      int // query rows per task when !byKeys
	keys      int // keys per task when byKeys, and per L1 block of the logits
	cols      int // output columns per task when byKeys
	pvKeys    int // keys per block of the register-tiled weighted sum
	normRun   int // keys per task of the key-norm pass
}

// call is the state shared by the tasks of one Attention call.
type call struct {
	a     *backend.AttentionArgs
	pl    plan
	inv2v float64   // 1/(2·Variance)
	invV  float64   // 1/Variance
	kc    []float64 // [NK] ‖k_j‖²/(2·Variance) − Bias[j]
	vt    []float64 // [DV, NK] Vᵀ widened, or nil
	// norms, when set, is the vector key-norms kernel (simdKernels.norms).
	norms func(k *float32, ldk int, n int, acc *[8]float64)
	// few-queries path: whole-call buffers
	q64 []float64 // [NQ, D]
	qn  []float64 // [NQ] ‖q_i‖²/(2·Variance)
	l   []float64 // [NQ, NK] logits, then weights
	sum []float64 // [NQ]
}

// scratch is one worker's buffers, reused through the Backend's pool.
type scratch struct {
	q64  []float64
	qn   []float64
	l    []float64 // logits, then weights
	sum  []float64
	acc  []float64 // weighted sums before normalisation
	simd simdScratch
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
