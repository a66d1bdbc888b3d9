// Package sampling implements ComfyUI's sampling maths for regen-executor:
// PyTorch-compatible CPU noise (mt19937 + torch.randn), the sigma schedules
// of comfy/samplers.py (SCHEDULER_HANDLERS), the k-diffusion samplers and
// UniPC, classifier-free guidance, and the value types that flow between
// the custom-sampler nodes (NOISE, SAMPLER, SIGMAS, GUIDER).
//
// Precision. Sigma schedules are computed in float64 and then rounded to
// float32, because ComfyUI keeps its sigma table and schedules as float32
// tensors: the slices returned here hold exactly the float32 values the
// samplers step through (float64-typed so callers need no conversions).
// Samplers compute their per-step coefficients in float64 from those sigmas
// and update float32 latents element by element in a fixed order, so results
// are bit-identical run to run. They are not bit-identical to PyTorch, which
// evaluates the same formulas in float32 tensor arithmetic; the initial
// noise is the one place where bit equality with PyTorch is the goal.
//
// Randomness. Initial noise is torch.manual_seed(seed) + torch.randn on the
// CPU (see Generator). Per-step noise of ancestral samplers is ComfyUI's
// default_noise_sampler on the CPU: a second generator seeded with seed+1
// (ComfyUI PR #11528; on CUDA ComfyUI draws it from the device generator,
// which cannot be reproduced here). SDE samplers use a deterministic
// Brownian tree of our own (see BrownianTree), which is not bit-equal to
// torchsde's.
package sampling
