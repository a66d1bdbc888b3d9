// Package nodes implements regen-executor's built-in node classes: image I/O
// (SaveImage, LoadImage, ...), the model nodes (checkpoint, text encoder, VAE,
// LoRA, conditioning), and the sampling nodes (KSampler, latents, the
// custom-sampler family).
package nodes

import "github.com/regen-dev/regen/executor/node"

// Builtin returns every built-in node class, for node.NewRegistry.
func Builtin() []node.Node {
	var all []node.Node
	all = append(all, imageNodes()...)
	all = append(all, modelNodes()...)
	all = append(all, samplingNodes()...)
	all = append(all, controlNetNodes()...)
	return all
}
