// Package node defines what a regen-executor node is: its typed inputs and
// outputs (from which /object_info is generated), the environment a node runs
// in, the values that flow along links (IMAGE, LATENT, MASK, CONDITIONING,
// MODEL, CLIP, VAE), and an explicit registry.
//
// A node is the Go equivalent of a ComfyUI custom node: implement Node,
// optionally IsChanger and/or InputValidator, and add it to a Registry.
// Nothing registers itself through init(). Execute reads its inputs with a
// Reader (r := Inputs(in); r.Int("steps"), r.Latent("samples"), ...,
// Get[T] for a family's own link types) and checks r.Err() once: the first
// failed read is the error, naming the input.
package node
