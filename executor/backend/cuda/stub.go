//go:build !cuda

// Package cuda is regen-executor's CUDA backend. This file is the build
// without the cuda tag: New always fails, so that `--backend cuda` says
// clearly what to do. The real backend (gorgonia.org/cu, PTX kernels) is in
// the files tagged cuda; see doc.go there.
package cuda

import (
	"fmt"
	"log/slog"

	"github.com/regen-dev/regen/executor/backend"
)

// Options configure New. The same type exists in the cuda build.
type Options struct {
	// Device is the CUDA device ordinal.
	Device int
	// Precision is "fp32" (the default when empty) or "tf32".
	Precision string
	// Logger receives the device and module load messages; nil discards.
	Logger *slog.Logger
}

// New reports that CUDA support is not compiled in. The error wraps
// backend.ErrUnavailable.
func New(Options) (backend.Backend, error) {
	return nil, fmt.Errorf("cuda backend: CUDA support is not compiled in; build with -tags cuda (make cuda): %w",
		backend.ErrUnavailable)
}
