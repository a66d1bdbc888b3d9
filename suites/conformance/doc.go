// Package conformance is the protocol conformance suite: behaviours of
// ComfyUI's HTTP and websocket API that a client can observe (routes,
// validation bodies, websocket message sequences, uploads, /view, and the
// pixels of the image nodes both servers have), written once and run
// against any ComfyUI-compatible server.
//
//	go test ./suites/conformance                                   # an in-process regen-executor
//	REGEN_CONFORMANCE_URL=http://127.0.0.1:8188 go test ./suites/conformance -v   # any server
//
// Without REGEN_CONFORMANCE_URL the suite starts regen-executor in process
// (the built-in nodes, the CPU backend, the fixture models) on a free
// loopback port; make test runs it that way. With it, the suite only reads
// and submits: it uploads a few small uniquely named PNGs to the server's
// input folder and saves a few images under the prefix "regen-conformance".
//
// The specs use only node classes that ComfyUI itself ships (LoadImage,
// ImageInvert, ImageScale, ImageBatch, SaveImage, PreviewImage), so that
// one spec checks the same behaviour on both servers. Each behaviour follows
// ComfyUI 0.33.0 (2026-08-22) unless its spec says otherwise. Where regen
// differs on purpose, or a given ComfyUI version differs from 0.33.0, the
// difference is listed once, in deviations.go, with why; a spec that
// touches it is skipped on the servers that differ, and the skip says why.
package conformance
