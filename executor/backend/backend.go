// Package backend defines the compute seam of regen-executor: the one heavy
// primitive of the closed-form diffusion model (attention of queries over a
// bank of keys with a bias) and the element-wise work around it. The CPU
// implementation lives in backend/cpu, the CUDA one in backend/cuda (build
// tag cuda). Backends are chosen explicitly by the caller.
package backend

import (
	"errors"
)

// ErrUnavailable is returned when a backend is not compiled in or finds no
// device.
var ErrUnavailable = errors.New("backend unavailable")

// Fingerprint identifies the environment a result was computed in; goldens
// are keyed by its Class.
type Fingerprint struct {
	Backend   string `json:"backend"`   // cpu, cuda
	Device    string `json:"device"`    // e.g. "NVIDIA H200" or the CPU model
	Driver    string `json:"driver"`    // driver version for cuda; empty for cpu
	Precision string `json:"precision"` // fp32, tf32, bf16
	Class     string `json:"class"`     // environment class: "cpu", "cuda-<device>"
	VRAMTotal int64  `json:"vram_total,omitempty"`
	VRAMFree  int64  `json:"vram_free,omitempty"`
}

// Backend computes the model's primitives.
type Backend interface {
	Name() string
	Fingerprint() Fingerprint
	Close() error
}
