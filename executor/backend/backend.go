// Package backend defines the compute seam of regen-executor: the one heavy
// primitive of the closed-form diffusion model (attention of queries over a
// bank of keys with a bias) and the element-wise work around it. The CPU
// implementation lives in backend/cpu, the CUDA one in backend/cuda (build
// tag cuda). Backends are chosen explicitly by the caller.
package backend

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnavailable is returned when a backend is not compiled in or finds no
// device.
var ErrUnavailable = errors.New("backend unavailable")

// Fingerprint identifies the environment a result was computed in; goldens
// are keyed by its Class.
type Fingerprint struct {
	Backend   string `json:"backend"`   // cpu, cuda, cuda-emulated
	Device    string `json:"device"`    // e.g. "NVIDIA H200" or the CPU model
	Driver    string `json:"driver"`    // driver version for cuda; empty for cpu
	Precision string `json:"precision"` // fp32, tf32, bf16
	Class     string `json:"class"`     // environment class: "cpu", "cuda-<device>", "cuda-emulated[-tf32][-nondet]"
	// Nondeterministic is set by a backend whose results differ from call
	// to call (cuda-emulated --nondeterministic); such a backend's goldens
	// can only be judged within thresholds, never bit for bit.
	Nondeterministic bool  `json:"nondeterministic,omitempty"`
	VRAMTotal        int64 `json:"vram_total,omitempty"`
	VRAMFree         int64 `json:"vram_free,omitempty"`
}

// Backend computes the model's primitives.
type Backend interface {
	Attender
	Name() string
	Fingerprint() Fingerprint
	Close() error
}

// AttentionArgs is one call of the model's primitive. For each query i:
//
//	out[i,:] = Σ_j softmax_j( -‖q_i − k_j‖² / (2·Variance) + Bias[j] ) · V[j,:]
//
// All slices are row-major float32. KNorm, when non-nil, holds ‖k_j‖²
// precomputed by the caller (key banks are reused across steps). KNorm64,
// when non-nil, holds ‖k_j‖² exactly as the CPU backend sums it itself:
// Σ_t float64(k_jt)² in order t = 0…D−1 (each product exact in float64), so
// passing it saves that pass and changes no bit; it takes precedence over
// KNorm. Backends that compute distances their own way (cuda) may ignore
// both.
type AttentionArgs struct {
	NQ, NK, D, DV int
	Q             []float32 // [NQ, D]
	K             []float32 // [NK, D]
	KNorm         []float32 // [NK] or nil
	KNorm64       []float64 // [NK] or nil
	Bias          []float32 // [NK] or nil (zero bias)
	V             []float32 // [NK, DV]
	Variance      float32   // > 0
	Out           []float32 // [NQ, DV], written
}

// Validate checks a before a backend computes it: shapes, slice lengths, a
// positive variance, at least one key when there is output to compute.
// Every backend calls it, so that all of them refuse the same arguments with
// the same message.
func (a *AttentionArgs) Validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("nil arguments")
	case a.NQ < 0 || a.NK < 0 || a.D < 0 || a.DV < 0:
		return fmt.Errorf("negative shape NQ=%d NK=%d D=%d DV=%d", a.NQ, a.NK, a.D, a.DV)
	case a.NK == 0 && a.NQ > 0 && a.DV > 0:
		return fmt.Errorf("softmax over NK=0 keys is undefined")
	case !(a.Variance > 0):
		return fmt.Errorf("variance %g, want > 0", a.Variance)
	}
	for _, s := range []struct {
		name      string
		got, want int
		skip      bool // an optional slice left nil
	}{
		{"Q", len(a.Q), a.NQ * a.D, false},
		{"K", len(a.K), a.NK * a.D, false},
		{"KNorm", len(a.KNorm), a.NK, a.KNorm == nil},
		{"KNorm64", len(a.KNorm64), a.NK, a.KNorm64 == nil},
		{"Bias", len(a.Bias), a.NK, a.Bias == nil},
		{"V", len(a.V), a.NK * a.DV, false},
		{"Out", len(a.Out), a.NQ * a.DV, false},
	} {
		if !s.skip && s.got < s.want {
			return fmt.Errorf("len(%s) = %d, want %d", s.name, s.got, s.want)
		}
	}
	return nil
}

// Attender is implemented by backends that compute the attention primitive.
// Implementations must be deterministic: the same arguments give the same
// bits, whatever the concurrency.
type Attender interface {
	Attention(ctx context.Context, a *AttentionArgs) error
}
