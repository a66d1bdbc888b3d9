// Package nodes is regen-executor's set of built-in node classes. Builtin
// returns them all, for node.NewRegistry; each family lives in its own
// package, named for its ComfyUI category:
//
//	image         SaveImage, PreviewImage, SaveImageWebsocket, LoadImage, ImageScale, ...
//	latent        EmptyLatentImage, LatentUpscale(By), batch and arithmetic, VAEDecode, VAEEncode
//	loader        CheckpointLoaderSimple, LoraLoader, VAELoader
//	conditioning  CLIPTextEncode, ConditioningCombine, ConditioningZeroOut
//	sampler       KSampler(Advanced) and the custom-sampler family
//
// and what several families share is under internal/: resample
// (common_upscale), pngmeta (PNG files with ComfyUI's metadata) and
// nodetest (test helpers).
//
// To add a node class: put it in its family's package (or a new one with a
// doc.go and a Nodes function added to Builtin), give it a Spec, and read
// its inputs in Execute through node.Inputs:
//
//	func (myNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
//		r := node.Inputs(in)
//		img, strength := r.Image("image"), r.Float("strength")
//		if err := r.Err(); err != nil {
//			return node.Result{}, err
//		}
//		...
//	}
//
// then list it in the family's Nodes and add a table test beside it.
package nodes
