// Package e2e is the deploy path's suite against a real Kubernetes control
// plane: kube-apiserver, kube-controller-manager, kube-scheduler and etcd built
// from Go modules by hack/controlplane.sh, with kwok simulating the nodes (one
// CPU node, one GPU node with nvidia.com/gpu capacity). It applies every
// overlay (dev, prod, gpu) with server-side apply into its own namespace,
// watches the rollout, checks where the GPU pod lands (and why it stays
// Pending without a GPU node), exercises server-side dry-run rejection and the
// collectors on a forced failure, and checks that teardown leaves nothing.
//
// What kwok cannot do: no container runs and no probe is ever executed (kwok
// marks pods Running and Ready itself), and there are no logs, exec or
// port-forward — so this suite does not replay workflows in the cluster; the
// collectors record why logs are unavailable. The suite skips with a reason
// when the binaries are not built (hack/controlplane.sh build).
package e2e
