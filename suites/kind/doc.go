// Package kind holds the suite that runs the runner's whole cluster path on a
// kind cluster (issue 18): `--cluster kind` through runner.Run creates a kind
// v0.33.0 cluster from the node image the project builds offline
// (hack/kindnode.sh, make kind-node-image), loads the executor image from its
// OCI archive, deploys the dev overlay into a pod on the kind node, replays
// the fixture suite against the cpu goldens and deletes the cluster; while the
// pod is live, the dev overlay's PVC binds through kind's default storage in
// the node image (local-path-provisioner built from its Go module), two pods
// write and read it, and deleting it tears the volume down; a forced
// failure shows the collectors (the pod's logs, the node's logs); afterwards
// the machine must look as it did before (links, iptables/nftables, mounts,
// processes, sysctls), checked with plain tools.
//
// It needs root, the cached node image and kind (hack/kindnode.sh build) and
// Debian's docker.io: the suite starts regen's dockerd (hack/kindnode.sh
// docker-start) unless one answers, and stops it after. Without them it skips
// and says why — unless REGEN_REQUIRE_KIND=1 (CI), which turns a missing
// prerequisite into a failure.
package kind
