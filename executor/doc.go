// Package executor implements regen-executor: a ComfyUI-compatible HTTP and
// websocket server with ComfyUI's graph semantics (validation and its error
// objects, topological execution with list mapping, output caching keyed on
// input signatures, interrupt, queue and history).
//
// Node classes come from an explicit node.Registry (nodes.Builtin() by
// default) and computation from an explicit backend.Backend. The server runs
// one prompt at a time on a single worker goroutine while HTTP and websocket
// clients are served concurrently.
//
//	srv, err := executor.New(executor.Options{Dirs: dirs, Backend: cpu.New()})
//	...
//	err = srv.Serve(ctx, ln) // until ctx is done
package executor
