// Package loader implements the loader node classes (ComfyUI category
// "loaders"): CheckpointLoaderSimple, LoraLoader, VAELoader and
// ControlNetLoader, over the closed-form model of package executor/model.
// MODEL values are *model.Model, CLIP values *model.TextEncoder and VAE
// values *model.VAE (each also satisfies the node interface of its type),
// or PixelSpaceVAE for VAELoader's "pixel_space". Loaded files are cached
// in the executor's resources until POST /free.
package loader
