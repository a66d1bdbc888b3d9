// Package cpu implements backend.Backend on the CPU: blocked, cache-friendly,
// parallel over the machine's cores and bit-deterministic.
package cpu

import "github.com/regen-dev/regen/executor/backend"

var _ backend.Backend = (*Backend)(nil)

// Backend is the CPU backend.
type Backend struct{}

// New returns a CPU backend.
func New() *Backend { return &Backend{} }

// Name returns "cpu".
func (b *Backend) Name() string { return "cpu" }

// Fingerprint describes the CPU environment.
func (b *Backend) Fingerprint() backend.Fingerprint {
	return backend.Fingerprint{Backend: "cpu", Device: "cpu", Precision: "fp32", Class: "cpu"}
}

// Close releases nothing.
func (b *Backend) Close() error { return nil }
