//go:build !cuda

package executor

import "github.com/regen-dev/regen/executor/backend"

// newCUDABackend is the seam for the CUDA backend; this build has none.
func newCUDABackend() (backend.Backend, error) { return nil, ErrCUDANotCompiled }
