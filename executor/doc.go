// Package executor runs regen-executor in process: the HTTP and websocket
// server of package server over the graph engine of package engine, with
// every built-in node class (package nodes) and the CPU backend unless
// Options say otherwise. It is the one executor package a harness imports
// (runner/target/local does); it never pulls in the CUDA backend, which
// only the binary chooses (cmd/regen-executor --backend cuda).
//
//	x, err := executor.New(executor.Options{Models: "fixtures/models", Input: "in", Output: "out", Temp: "tmp"})
//	...
//	defer x.Close()
//	err = x.Serve(ctx, ln) // until ctx is done
//
// The rooms of regen-executor, under executor/:
//
//   - engine: the graph engine (prompt, validation, coercion, order, cache,
//     queue, execution), reporting through an event sink; no HTTP.
//   - server: the HTTP and websocket server on top of the engine (routes,
//     websocket, history, files, metrics).
//   - node: the contract of a node class; nodes: the built-in classes.
//   - backend: the compute seam, with the cpu and cuda implementations.
//   - model, sampling: the closed-form model and ComfyUI's samplers.
package executor
