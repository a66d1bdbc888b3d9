// Package kernelsim is the CUDA backend's host-side logic that needs no GPU:
// the launch plan of the attention kernels (grid, key splits, launch
// chunks), argument validation, and an emulator of the kernels' arithmetic
// in Go.
//
// The emulator follows kernels/attention.cu operation by operation (tile
// sizes, the order of every sum, the online softmax, the split-and-combine)
// with each fp32 operation rounded as the kernel's intrinsics round it, and
// the tensor-core path's inputs rounded to TF32 (cvt.rna) or BF16. It is not
// bit-exact with the GPU (CUDA's expf is within 2 ulp, not correctly
// rounded; the mma's internal accumulation order is the hardware's), but it
// measures on a CPU what each precision costs in accuracy, and on a GPU the
// kernels are checked against it.
//
// The cuda-emulated backend (package cudaemu, regen-executor --backend
// cuda-emulated) serves it as a real backend.
//
// It lives in its own untagged package because the cuda package imports
// gorgonia.org/cu, whose init exits the process on a machine without a GPU.
package kernelsim
