package kernelsim

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/regen-dev/regen/executor/backend"
)

// Precision selects how the emulated kernel computes distances.
type Precision int

// Precisions.
const (
	// FP32 is attn_f32: d² = Σ (q−k)² in fp32, one fma per term.
	FP32 Precision = iota
	// TF32 is attn_tf32: the dot products on tensor cores with inputs
	// rounded to TF32 (10-bit mantissa), norms in fp32.
	TF32
	// BF16 is the same with inputs rounded to BF16 (7-bit mantissa). No
	// kernel implements it; it is emulated to show why none should.
	BF16
)

func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case TF32:
		return "tf32"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// Emulator runs the attention kernels' arithmetic on the CPU. It implements
// backend.Backend so that the conformance suite can run against it.
type Emulator struct {
	Precision Precision
	// NoCentre turns off the tensor-core path's centring of queries and
	// keys at the block's first query, to measure what the centring buys.
	NoCentre bool
	// Workers is how many goroutines compute a launch's (query block,
	// split) blocks at once; ≤ 1 means one. Each block writes its own part
	// of the workspace, so the bits do not depend on it.
	Workers int
	// Shuffle, when non-nil, is given the order in which the combine adds
	// a row's key splits (ascending, as attn_combine adds them) and may
	// permute it in place, as a kernel that combined with atomics would.
	// It is called from the calling goroutine, once per row, in row order.
	Shuffle func(order []int)
}

var _ backend.Backend = (*Emulator)(nil)

// Name returns "cuda-emulator".
func (e *Emulator) Name() string { return "cuda-emulator" }

// Fingerprint describes the emulator.
func (e *Emulator) Fingerprint() backend.Fingerprint {
	return backend.Fingerprint{Backend: "cuda-emulator", Device: "cpu", Precision: e.Precision.String(), Class: "cuda-emulator"}
}

// Close releases nothing.
func (e *Emulator) Close() error { return nil }

// Attention computes a.Out as the kernels would, launch chunk by launch
// chunk, checking ctx between query blocks.
func (e *Emulator) Attention(ctx context.Context, a *backend.AttentionArgs) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	if a.NQ == 0 || a.DV == 0 {
		return nil
	}
	inv2v := float32(1 / (2 * float64(a.Variance)))
	rows := RowsPerLaunch(a.NQ, a.NK, a.D, a.DV)
	for r0 := 0; r0 < a.NQ; r0 += rows {
		nq := min(rows, a.NQ-r0)
		pl := NewPlan(nq, a.NK, a.DV)
		pmax := make([]float64, pl.MaxLen(nq))
		part := make([]float32, pl.PartialLen(nq, a.DV))
		q := a.Q[r0*a.D : (r0+nq)*a.D]
		if err := e.blocks(ctx, a, q, nq, pl, inv2v, pmax, part); err != nil {
			return fmt.Errorf("attention: %w", err)
		}
		combine(pmax, part, a.Out[r0*a.DV:(r0+nq)*a.DV], nq, a.DV, pl.GZ, e.Shuffle)
	}
	return nil
}

// blocks runs every (query block, split) of one launch, on e.Workers
// goroutines, checking ctx before each block.
func (e *Emulator) blocks(ctx context.Context, a *backend.AttentionArgs, q []float32, nq int, pl Plan, inv2v float32, pmax []float64, part []float32) error {
	jobs := pl.GX * pl.GZ
	workers := min(max(e.Workers, 1), jobs)
	if workers == 1 {
		for bx := range pl.GX {
			for z := range pl.GZ {
				if err := ctx.Err(); err != nil {
					return err
				}
				if !e.block(ctx, a, q, nq, bx*BQ, z, pl.KeysPerSplit, inv2v, pmax, part) {
					return ctx.Err()
				}
			}
		}
		return nil
	}
	// Each (bx, z) writes only its own rows of split z in pmax and part,
	// so the order the goroutines take them in does not reach the bits.
	var next atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= jobs {
					return
				}
				if ctx.Err() != nil {
					stopped.Store(true)
					return
				}
				if !e.block(ctx, a, q, nq, j/pl.GZ*BQ, j%pl.GZ, pl.KeysPerSplit, inv2v, pmax, part) {
					stopped.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if stopped.Load() {
		return ctx.Err()
	}
	return nil
}

// block is one (query block, split) of attn_body, for all output columns at
// once (the column blocks compute the same logits and weights). It checks
// ctx between key tiles and reports false, its outputs unfinished, when ctx
// is done (a large split is seconds under the race detector).
func (e *Emulator) block(ctx context.Context, a *backend.AttentionArgs, q []float32, nq, q0, z, perSplit int, inv2v float32, pmax []float64, part []float32) bool {
	d, dv := a.D, a.DV
	kbeg, kend := z*perSplit, min(a.NK, (z+1)*perSplit)
	negInf := math.Inf(-1)
	var m [BQ]float64
	var l, alpha [BQ]float32
	for r := range m {
		m[r] = negInf
	}
	acc := make([]float32, BQ*dv)
	var lgs [BQ][BK]float64
	var s [BQ][BK]float32
	qs := make([]float32, BQ*d) // the block's rows, centred on the tensor-core path
	ks := make([]float32, BK*d)
	centre := e.Precision != FP32 && !e.NoCentre
	for r := range BQ {
		if q0+r >= nq {
			clear(qs[r*d : (r+1)*d])
			continue
		}
		for t := range d {
			x := q[(q0+r)*d+t]
			if centre {
				x -= q[q0*d+t]
			}
			qs[r*d+t] = x
		}
	}
	for k0 := kbeg; k0 < kend; k0 += BK {
		if ctx.Err() != nil {
			return false
		}
		for j := range BK {
			for t := range d {
				x := float32(0)
				if k0+j < kend {
					x = a.K[(k0+j)*d+t]
					if centre {
						x -= q[q0*d+t]
					}
				}
				ks[j*d+t] = x
			}
		}
		// 1. logits
		for r := range BQ {
			for j := range BK {
				var d2 float32
				if e.Precision == FP32 {
					for t0 := 0; t0 < d; t0 += DC {
						var c float32
						for t := t0; t < min(t0+DC, d); t++ {
							df := qs[r*d+t] - ks[j*d+t]
							c = fma32(df, df, c)
						}
						d2 += c
					}
				} else {
					d2 = e.mmaDistance(qs[r*d:(r+1)*d], ks[j*d:(j+1)*d])
				}
				lg := negInf
				if k0+j < kend {
					lg = float64(float32(-d2 * inv2v))
					if a.Bias != nil {
						lg += float64(a.Bias[k0+j])
					}
				}
				lgs[r][j] = lg
			}
		}
		// 2. online softmax, 8 lanes per row, butterfly max and sum
		for r := range BQ {
			mx := negInf
			for _, lg := range lgs[r] {
				mx = max(mx, lg)
			}
			mnew := max(m[r], mx)
			var lane [8]float32
			for g := range 8 {
				var sum float32
				for j := 8 * g; j < 8*g+8; j++ {
					p := float32(0)
					if lgs[r][j] != negInf {
						p = exp32(float32(lgs[r][j] - mnew))
					}
					s[r][j] = p
					sum += p
				}
				lane[g] = sum
			}
			for o := 4; o > 0; o /= 2 {
				var next [8]float32
				for g := range 8 {
					next[g] = lane[g] + lane[g^o]
				}
				lane = next
			}
			al := float32(0)
			if m[r] != negInf {
				al = exp32(float32(m[r] - mnew))
			}
			alpha[r] = al
			l[r] = float32(l[r]*al) + lane[0]
			m[r] = mnew
		}
		// 3. weighted sum
		for r := range BQ {
			for c := range dv {
				o := float32(acc[r*dv+c] * alpha[r])
				for j := range BK {
					v := float32(0)
					if k0+j < kend {
						v = a.V[(k0+j)*dv+c]
					}
					o = fma32(s[r][j], v, o)
				}
				acc[r*dv+c] = o
			}
		}
	}
	stride := 1 + dv
	for r := range BQ {
		row := q0 + r
		if row >= nq {
			continue
		}
		pmax[z*nq+row] = m[r]
		p := part[(z*nq+row)*stride:]
		p[0] = l[r]
		copy(p[1:1+dv], acc[r*dv:(r+1)*dv])
	}
	return true
}

// mmaDistance is the tensor-core path's d² = ‖q‖² + ‖k‖² − 2 q·k for
// centred rows: norms by fma in fp32, the dot product from rounded inputs,
// accumulated in fp32 one k-step (8 dims) at a time.
func (e *Emulator) mmaDistance(q, k []float32) float32 {
	var qn, kn, dot float32
	for t0 := 0; t0 < len(q); t0 += DC {
		var cq, ck float32
		for t := t0; t < min(t0+DC, len(q)); t++ {
			cq = fma32(q[t], q[t], cq)
			ck = fma32(k[t], k[t], ck)
		}
		qn += cq
		kn += ck
	}
	round := roundTF32
	if e.Precision == BF16 {
		round = roundBF16
	}
	for t0 := 0; t0 < len(q); t0 += 8 {
		step := float64(dot)
		for t := t0; t < min(t0+8, len(q)); t++ {
			step += float64(round(q[t])) * float64(round(k[t]))
		}
		dot = float32(step)
	}
	return max(float32(qn+kn)-float32(2*dot), 0)
}

// combine is attn_combine; shuffle, when non-nil, permutes the order in
// which each row's splits are added.
func combine(pmax []float64, part, out []float32, nq, dv, nz int, shuffle func([]int)) {
	stride := 1 + dv
	negInf := math.Inf(-1)
	order := make([]int, nz)
	for row := range nq {
		mx := negInf
		for z := range nz {
			mx = max(mx, pmax[z*nq+row])
		}
		for z := range order {
			order[z] = z
		}
		if shuffle != nil {
			shuffle(order)
		}
		for c := range dv {
			var sum, acc float32
			for _, z := range order {
				mz := pmax[z*nq+row]
				p := part[(z*nq+row)*stride:]
				e := float32(0)
				if mz != negInf {
					e = exp32(float32(mz - mx))
				}
				sum = fma32(p[0], e, sum)
				acc = fma32(p[1+c], e, acc)
			}
			out[row*dv+c] = acc / sum
		}
	}
}

func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }

// roundTF32 is cvt.rna.tf32.f32: round to a 10-bit mantissa, ties away
// from zero (the low 13 bits are zero afterwards).
func roundTF32(x float32) float32 {
	b := math.Float32bits(x)
	if b&0x7f800000 == 0x7f800000 {
		return x
	}
	return math.Float32frombits((b + 0x1000) &^ 0x1fff)
}

// roundBF16 rounds to a 7-bit mantissa, ties to even (cvt.rn.bf16.f32).
func roundBF16(x float32) float32 {
	b := math.Float32bits(x)
	if b&0x7f800000 == 0x7f800000 {
		return x
	}
	return math.Float32frombits((b + 0x7fff + (b>>16)&1) &^ 0xffff)
}
