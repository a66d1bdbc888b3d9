// Package cluster is the runner's Kubernetes target: it deploys an overlay
// (any under kustomize/overlays: dev, prod, gpu, …) into a cluster — the
// current kubeconfig's, or for dev a kind cluster created or reused through
// e2e-framework's kind provider (kind v0.33.0, the executor image loaded into
// it) — and reaches each executor pod itself, never through the
// load-balanced Service: by its pod IP when that answers /system_stats as the
// executor from where regen runs (a host node's pods sit on a bridge on this
// machine), else through a client-go port-forward (apiserver → kubelet, as
// for a kind node's pods, inside the node's network namespace). The run says
// which, and why, in one line; Options.PortForward (--port-forward,
// $REGEN_PORT_FORWARD=1) forces the port-forward.
//
// Preflight decides within seconds whether that is possible and, when it is
// not (no kubeconfig, no Docker, no kind), says what is missing and what to
// run instead. The kind flow and port-forward need Docker and real pods: they
// are unverified on machines without them (the local control plane's kwok
// nodes run no containers and serve no port-forward).
package cluster
