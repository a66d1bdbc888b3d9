// Package sampling implements ComfyUI's sampling maths for regen-executor:
// PyTorch-compatible CPU noise (mt19937 + torch.randn), the sigma schedules
// of comfy/samplers.py (SCHEDULER_HANDLERS), all 44 samplers of ComfyUI's
// sampler list (k-diffusion's, DPM-Solver(++), CFG++, DEIS, iPNDM, RES,
// SEEDS, ER-SDE, SA-Solver, UniPC), classifier-free guidance with
// inpainting masks, and the values that flow between the custom-sampler
// nodes (NOISE, SAMPLER, SIGMAS, GUIDER).
//
// Precision. Sigma schedules are computed in float64 and then rounded to
// float32, because ComfyUI keeps its sigma table and schedules as float32
// tensors: the slices returned here hold exactly the float32 values the
// samplers step through (float64-typed so callers need no conversions).
// ComfyUI evaluates some schedules (karras, exponential, normal) in float32
// tensor arithmetic, so a value can differ from ComfyUI's in its last
// float32 bit. Samplers compute their per-step coefficients in float64
// from those sigmas and update float32 latents element by element, each
// linear combination accumulated in float64 in a fixed order and rounded
// once, so results are bit-identical run to run. They are not bit-identical
// to PyTorch, which evaluates the same formulas in float32 tensor
// arithmetic; the initial noise is the one place where bit equality with
// PyTorch is the goal (and is reached: see Generator.Randn).
//
// Randomness. Initial noise is torch.manual_seed(seed) + torch.randn on the
// CPU (Generator, PrepareNoise). Per-step noise of ancestral and other
// stochastic samplers is ComfyUI's default_noise_sampler on the CPU: a
// second generator seeded with seed+1 (ComfyUI PR #11528; on CUDA ComfyUI
// draws it from the device generator, which cannot be reproduced here). The
// SDE samplers (dpmpp_sde, dpmpp_2m_sde(_heun), dpmpp_3m_sde and their _gpu
// names) use a deterministic Brownian tree of our own (BrownianTree), which
// is not bit-equal to torchsde's.
package sampling
