// Package executor holds regen-executor: a ComfyUI-compatible server with
// ComfyUI's graph semantics, running regen's closed-form diffusion model.
//
//   - engine: the graph engine (prompt, validation, coercion, order, cache,
//     queue, execution), reporting through an event sink; no HTTP.
//   - server: the HTTP and websocket server on top of the engine (routes,
//     websocket, history, files, metrics).
//   - node: the contract of a node class; nodes: the built-in classes.
//   - backend: the compute seam, with the cpu and cuda implementations.
//   - model, sampling: the closed-form model and ComfyUI's samplers.
//
// The library chooses no backend: cmd/regen-executor does for the binary.
package executor
