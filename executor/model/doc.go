// Package model implements regen-executor's closed-form diffusion model: a
// checkpoint of exemplar latents with caption embeddings, a bag-of-words text
// encoder with ComfyUI's emphasis syntax, a denoiser that is the exact (gmm,
// local per cell at low noise: local.go, with a generic component that
// keeps what no exemplar explains: generic.go) or patch-local (els, with
// its own generic component: els_generic.go) posterior mean over those
// exemplars, a PCA VAE with a
// codebook-attention decoder, and LoRA files that add exemplars and shift
// word embeddings.
//
// Every heavy step is one call of the backend's attention primitive
// (backend.Attender); the rest is element-wise work in a fixed order, so
// results are bit-identical run to run on the CPU backend.
//
// Checkpoints are safetensors files (see package safetensors); the generator
// in fixtures/gen writes them with Data.File.
package model
