// Package kube is regen's Kubernetes machinery: it brings a local control
// plane (and, on request, a real host node) up and down, and deploys
// rendered overlays into any cluster.
//
// # Who does what
//
// Four packages share the road from kustomize/overlays/<env> to an executor
// pod the runner can replay on; each does one step and knows nothing of the
// ones after it:
//
//   - runner/deploy renders an overlay in-process (krusty) and validates it
//     strictly, without a cluster: it turns a directory into manifests.
//   - runner/ociimage writes the executor and pause images as OCI archives,
//     without Docker or a registry: it turns binaries into images.
//   - runner/kube (this package) puts manifests and images into a cluster:
//     Up and Down run a local control plane (etcd, kube-apiserver,
//     kube-controller-manager, kube-scheduler, kwok for fake nodes) and,
//     with Options.Host, a kubelet on this machine's containerd; Deployer
//     applies manifests into a fresh namespace, waits for the rollout,
//     collects diagnostics and tears the namespace down. It never renders,
//     never builds images and never talks to an executor.
//   - runner/target/cluster is the runner's Target for a Kubernetes
//     environment: it decides where the cluster comes from (kubeconfig, kind,
//     or a host node from this package), calls deploy, ociimage and kube in
//     that order, and port-forwards to each executor pod. It is the only one
//     of the four that knows about the runner.
//
// runner/target/factory picks that target for an environment name; the CLI
// only turns flags into its options.
//
// # The control plane
//
// Up starts every component from binaries built by hack/controlplane.sh, on
// free loopback ports, with certificates made in Go (crypto/x509) and every
// file in one state directory. Down stops the processes by PID in reverse
// order. Every program the control plane and the host node start or run
// (the components, containerd, the kubelet, ip, ctr, nft) goes through a
// Cmder (Options.Cmder, ExecCmder by default), so their command sequences
// are unit-tested with a fake.
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
// selectors, taints) and rollout bookkeeping. The host node (host.go) is the
// real thing: containers, probes, logs and port-forward.
package kube
