// Package server is regen-executor's ComfyUI-compatible HTTP and websocket
// server on top of package engine: the routes (every one also under /api:
// /prompt, /queue, /history, /interrupt, /free, /view, /upload/image,
// /object_info, /system_stats, /features, /models, /view_metadata,
// /metrics, /healthz, /ws), the websocket hub, the bounded history, the
// input/output/temp files and the Prometheus metrics. The Server is the
// engine's Sink: it forwards events to websocket clients, keeps finished
// prompts in the history and counts them.
//
// Like the engine, the server is handed its node classes and its backend;
// cmd/regen-executor chooses them for the binary, package executor for an
// executor run in process.
//
//	srv, err := server.New(server.Options{Dirs: dirs, Backend: be, Registry: reg})
//	...
//	err = srv.Serve(ctx, ln) // until ctx is done
package server
