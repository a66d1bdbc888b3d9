package executor

import "github.com/regen-dev/regen/executor/backend"

// CPUFromDefault exposes the default backend to the tests.
var CPUFromDefault func() (backend.Backend, error) = cpuBackend
