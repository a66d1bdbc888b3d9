// Package sampler implements the sampling node classes (ComfyUI category
// "sampling"): KSampler and KSamplerAdvanced of nodes.py, and the
// custom-sampler family of comfy_extras/nodes_custom_sampler.py (noise,
// sampler, scheduler, guider and SIGMAS nodes, SamplerCustom and
// SamplerCustomAdvanced). The numerics live in executor/sampling; these
// nodes read their inputs, build a sampling job and run it.
package sampler
