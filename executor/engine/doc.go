// Package engine is regen-executor's graph engine: ComfyUI's prompt
// semantics without any HTTP. It decodes an API-format prompt request
// (Submit), validates it with ComfyUI's error objects (ErrorObj,
// NodeErrors), coerces constants to their declared types, queues it by
// number, and executes it on one worker (Run): in ComfyUI's topological
// order, mapping nodes over input lists, serving unchanged nodes from an
// output cache keyed on input signatures, and stopping on Interrupt.
//
// Node classes come from an explicit node.Registry and computation from an
// explicit backend.Backend; the engine chooses neither. It reports what it
// does through a Sink: ComfyUI's websocket events in order, node previews,
// progress steps, node timings, and each finished prompt with its
// /history entry. Package server is the Sink that serves them over HTTP and
// websocket; a test or a worker can be another.
//
//	en, err := engine.New(engine.Options{Registry: reg, Backend: be, Dirs: dirs, Sink: sink})
//	...
//	go en.Run(ctx)
//	sub := en.Submit([]byte(`{"prompt": {...}, "client_id": "me"}`))
//	// sub.Queued(), sub.PromptID; sink.PromptDone reports the outcome.
package engine
