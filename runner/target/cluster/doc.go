// Package cluster is the runner's Kubernetes target: it deploys an overlay
// (any under kustomize/overlays: dev, prod, gpu, …) into a cluster — the
// current kubeconfig's, or for dev a kind cluster created or reused through
// e2e-framework's kind provider (kind v0.33.0, the executor image loaded into
// it) — and reaches each executor pod through a client-go port-forward, so
// the runner talks to pods, never through the load-balanced Service.
//
// Preflight decides within seconds whether that is possible and, when it is
// not (no kubeconfig, no Docker, no kind), says what is missing and what to
// run instead. The kind flow and port-forward need Docker and real pods: they
// are unverified on machines without them (the local control plane's kwok
// nodes run no containers and serve no port-forward).
package cluster
