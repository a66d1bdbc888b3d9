// Package target defines where regen replays its cases: a Target starts
// (or reaches) one or more ComfyUI-compatible executor endpoints and gives
// them back to the runner. Implementations: URL (any server by URL, a real
// ComfyUI too) here, the in-process local executor in target/local, and the
// Kubernetes environments (every overlay under kustomize/overlays) in
// target/cluster. target/factory picks one of them for an environment name;
// commands never construct a target themselves. The runner addresses every
// endpoint on its own, never through a load balancer, because ComfyUI keeps
// its queue and history per process.
package target
