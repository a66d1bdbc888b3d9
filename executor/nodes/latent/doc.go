// Package latent implements the latent node classes (ComfyUI category
// "latent"): EmptyLatentImage, LatentUpscale(By) with bislerp,
// LatentFromBatch, RepeatLatentBatch, LatentAdd, LatentMultiply, and the
// VAE's encode and decode. LATENT values are *node.Latent; outputs are new
// values (inputs are never modified).
package latent
