// Package client implements the ComfyUI HTTP and websocket protocol for
// regen's harness. It works against any ComfyUI-compatible server: a real
// ComfyUI or regen-executor.
//
// Run is the main call: it opens the websocket /ws?clientId=… first, POSTs
// /prompt, follows the events of its own prompt until `executing` with node
// null, reads /history/{id}, and returns the outputs, cached nodes, per-node
// timings and status. A server without a websocket (a plain HTTP proxy that
// answers /ws with 426) is followed by polling /history/{id} with backoff,
// and the client says so once; Result.Polled marks such runs. Errors are typed: *ValidationError (the server
// rejected the prompt), *ExecutionError (a node raised), ErrInterrupted,
// ErrTimeout, and infrastructure errors (see IsInfrastructure). Only
// infrastructure failures that happen before the server accepted the prompt
// are retried; a prompt the server took is never submitted again.
package client
