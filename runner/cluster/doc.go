// Package cluster brings a local Kubernetes control plane up and down and
// deploys regen's rendered overlays into it.
//
// Up starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok (fake nodes, including a fake GPU node with nvidia.com/gpu capacity)
// from binaries built by hack/controlplane.sh, on free loopback ports, with
// certificates made in Go (crypto/x509) and every file in one state directory.
// Down stops the processes by PID in reverse order.
//
// The deploy engine (Deployer) works against any cluster reachable through a
// rest.Config — the local one or the current kubeconfig's: it server-side
// applies a rendered overlay into a fresh namespace labelled with the run id,
// waits for the rollout, collects pod status, waiting reasons, sorted events
// and the rendered manifests (before teardown, on failure), and deletes the
// namespace unless told to keep it. Every wait has a typed timeout.
//
// kwok simulates nodes: no container runs, probes never run, and there are no
// logs, exec or port-forward. What it proves is the API side: server-side
// validation, defaulting and dry-run, apply, scheduling (GPU capacity,
// selectors, taints) and rollout bookkeeping.
package cluster
