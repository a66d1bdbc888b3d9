//go:build cuda

// Package cuda is regen-executor's CUDA backend (build tag cuda): the
// attention primitive on an NVIDIA GPU through gorgonia.org/cu (the driver
// API only: context, memory, module, launch) and kernels of ours in CUDA C
// (kernels/attention.cu), compiled to PTX for sm_80 and sm_90 by
// hack/cuda.sh and embedded, so that building needs cuda.h and libcuda but
// not nvcc, and running needs only a driver at CUDA 11.8 level or newer.
// No cuBLAS or other versioned CUDA library is linked.
//
// Precisions (Options.Precision; see kernelsim's TestPrecisionCost for the
// numbers):
//
//   - "fp32" (default): distances computed directly, d² = Σ(q−k)², in fp32,
//     32-dim chunk sums added in order; logits and the softmax max in fp64;
//     weights and sums in fp32. Within 5e-6·max|V| of the float64 oracle on
//     every conformance case (the default suite tolerance is 2e-5).
//   - "tf32": Q·Kᵀ on tensor cores (mma.sync m16n8k8), queries and keys
//     centred at the block's first query, norms in fp32. Errors up to
//     7e-2·max|V| on clustered data at small variance (late sampling), 2e-3
//     on VAE-like calls: outside the comparison's tolerance for els
//     workflows, so it is opt-in and its goldens get their own class.
//
// Results are deterministic: every reduction has a fixed order decided by
// the call's shape (not the GPU's SM count), and no kernel uses atomics. They
// differ from the CPU backend's in the last bits.
//
// gorgonia.org/cu's init calls cuInit and exits the process when there is
// no GPU: this package's tests run only with the tag, on a GPU machine
// (hack/gpu-check.sh). Everything that can be tested without a GPU (launch
// plan, emulated arithmetic, device class) is in kernelsim.
package cuda
