// Package resample is comfy.utils.common_upscale for the node families:
// Upscale resizes an IMAGE batch (or latent planes viewed as one) with
// torch's nearest-exact, bilinear, bicubic and area kernels or Pillow's
// lanczos, bit for bit, after an optional centre crop (CenterCrop);
// TargetSize applies ImageScale's and LatentUpscale's rules for a zero
// width or height.
package resample
