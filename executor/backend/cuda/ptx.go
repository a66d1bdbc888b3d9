//go:build cuda

package cuda

import _ "embed"

// The PTX generated from kernels/attention.cu by hack/cuda.sh (nvcc 11.8,
// PTX ISA 7.8). The driver JIT-compiles it for the device at module load.
var (
	//go:embed kernels/attention_sm80.ptx
	ptxSM80 string
	//go:embed kernels/attention_sm90.ptx
	ptxSM90 string
)
