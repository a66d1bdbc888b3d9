// Package cudaemu is regen-executor's cuda-emulated backend: the CUDA
// backend's attention kernels (attn_f32, or attn_tf32 with TF32 chosen)
// computed on the CPU by the kernelsim emulator, so that a whole workflow
// produces what the GPU would, up to the emulator's stated limits (CUDA's
// expf and the tensor cores' internal accumulation order are not modelled
// bit for bit; see package kernelsim). It needs no GPU and no build tag.
//
// By default it is deterministic: the same call gives the same bits, run
// after run and whatever GOMAXPROCS is. With Options.Nondeterministic the
// order in which the combine adds each row's key splits is shuffled on
// every call, as a kernel combining with atomics would be on a GPU; the
// results then differ in the last bits from call to call and from process
// to process, and the fingerprint says so.
package cudaemu

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cuda/kernelsim"
)

// Name is the backend's name, in /system_stats and the fingerprint.
const Name = "cuda-emulated"

// Options configure New.
type Options struct {
	// Precision is "fp32" (the default when empty) or "tf32".
	Precision string
	// Nondeterministic shuffles the key-split combine order on every call.
	Nondeterministic bool
	// Seed seeds the shuffles when Nondeterministic is set; 0 means the
	// time New is called (so that two processes differ). Call n of a
	// backend uses the stream (Seed, n), n counted per backend from 1.
	Seed uint64
	// Workers is how many goroutines compute query blocks; 0 means
	// GOMAXPROCS at New. The bits do not depend on it.
	Workers int
	// Logger receives the start message; nil discards.
	Logger *slog.Logger
}

// Backend is the cuda-emulated backend. It is safe for concurrent use.
type Backend struct {
	emu   kernelsim.Emulator
	fp    backend.Fingerprint
	nd    bool
	seed  uint64
	calls atomic.Uint64
}

var _ backend.Backend = (*Backend)(nil)

// New returns the backend, or an error for an unknown precision.
func New(opts Options) (*Backend, error) {
	prec := kernelsim.FP32
	switch opts.Precision {
	case "", "fp32":
	case "tf32":
		prec = kernelsim.TF32
	default:
		return nil, fmt.Errorf("cuda-emulated backend: precision %q, want fp32 or tf32", opts.Precision)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	b := &Backend{
		emu: kernelsim.Emulator{Precision: prec, Workers: workers},
		fp: backend.Fingerprint{
			Backend:          Name,
			Device:           "CUDA kernels emulated on the CPU (kernelsim, " + runtime.GOARCH + ")",
			Precision:        prec.String(),
			Class:            Class(prec.String(), opts.Nondeterministic),
			Nondeterministic: opts.Nondeterministic,
		},
		nd:   opts.Nondeterministic,
		seed: opts.Seed,
	}
	if b.nd && b.seed == 0 {
		b.seed = uint64(time.Now().UnixNano())
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log.Info("cuda-emulated backend ready", "precision", b.fp.Precision, "nondeterministic", b.nd,
		"class", b.fp.Class, "workers", workers)
	return b, nil
}

// Class is the environment class of the emulated backend's goldens:
// "cuda-emulated", with "-tf32" for the tensor-core kernel and "-nondet"
// when the combine order changes from call to call. It never equals a real
// device's class (kernelsim.Class gives "cuda-<device>"): emulated goldens
// are not a GPU's.
func Class(precision string, nondeterministic bool) string {
	c := "cuda-emulated"
	if precision != "" && precision != "fp32" {
		c += "-" + precision
	}
	if nondeterministic {
		c += "-nondet"
	}
	return c
}

// Name returns "cuda-emulated".
func (b *Backend) Name() string { return Name }

// Fingerprint describes the emulated environment.
func (b *Backend) Fingerprint() backend.Fingerprint { return b.fp }

// Close releases nothing.
func (b *Backend) Close() error { return nil }

// Attention computes a.Out with the kernels' arithmetic.
func (b *Backend) Attention(ctx context.Context, a *backend.AttentionArgs) error {
	e := b.emu
	if b.nd {
		r := rand.New(rand.NewPCG(b.seed, b.calls.Add(1)))
		e.Shuffle = func(order []int) {
			r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
	}
	return e.Attention(ctx, a)
}
