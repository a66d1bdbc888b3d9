// Package hostnode holds the suite that runs the runner's whole cluster path
// against real pods: `regen run --env dev --cluster host` brings up the local
// control plane and a host node (a kubelet on this machine's containerd and
// runc, CNI bridge), deploys the dev overlay, waits for the rollout with the
// real probes on /system_stats, port-forwards to the pod, replays the
// fixture suite and judges it against the cpu goldens; a forced failure
// shows the collectors (real pod logs, events); each run's teardown must
// leave the machine as it was.
//
// It needs root, Debian's containerd, runc and containernetworking-plugins,
// and the control plane plus kubelet built by hack/hostnode.sh prepare.
// Without them it skips and says why — unless REGEN_REQUIRE_HOST_NODE=1 (CI),
// which turns a missing prerequisite into a failure.
package hostnode
