package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The host node is one real Kubernetes node on this machine: a kubelet built
// from the same helper module as the control plane, on Debian's containerd
// and runc, with a CNI bridge. Its names and addresses are fixed (one host
// node per machine at a time, guarded by a lock file) and chosen not to clash
// with Docker's, Podman's or containerd's defaults.
const (
	// HostPodBridge is the pods' bridge link.
	HostPodBridge = "regen0"
	// HostNodeName is the node the kubelet registers.
	HostNodeName = "regen-host"
	// hostNodeIP is the node's InternalIP, on its own bridge link: the
	// kubelet refuses a loopback node IP, the sandbox has no dummy links,
	// and nothing routes it off this machine.
	hostNodeIP   = "172.31.255.1"
	hostNodeLink = "regen-node0"
	// The pods' bridge and subnet. The CNI config gives pods no default
	// route: they reach their own subnet (the kubelet's probes come from the
	// bridge address) and nothing else.
	podBridge  = HostPodBridge
	podSubnet  = "10.213.0.0/24"
	podGateway = "10.213.0.1"
	cniNetwork = "regen-host"
	// Ledger and lock live in /run: a reboot forgets them with everything
	// they describe.
	hostLedger = "/run/regen-host-node.json"
	hostLock   = "/run/regen-host-node.lock"
)

// hostSys are the machine-wide places a host node uses: the ledger and lock
// in /run and the network links' directory. Tests point them at a temp dir.
type hostSys struct {
	ledger, lock string
	netDir       string
}

func defaultHostSys() hostSys {
	return hostSys{ledger: hostLedger, lock: hostLock, netDir: "/sys/class/net"}
}

// linkExists reports whether the network link name exists.
func (s hostSys) linkExists(name string) bool {
	_, err := os.Stat(filepath.Join(s.netDir, name))
	return err == nil
}

// ErrHostUnavailable is wrapped by CheckHost's errors.
var ErrHostUnavailable = errors.New("host node unavailable")

// HostOptions configure the real node Up starts when Options.Host is set.
type HostOptions struct {
	// Kubelet is the kubelet binary (default: BinDir/kubelet, built by
	// `hack/controlplane.sh kubelet`).
	Kubelet string
	// Containerd, Ctr and Runc default to their PATH lookups (Debian's
	// containerd, runc packages).
	Containerd, Ctr, Runc string
	// CNIBinDir holds the bridge, host-local and loopback plugins (default:
	// the first of /usr/lib/cni, /opt/cni/bin that has them).
	CNIBinDir string
	// Images are OCI image archives imported into containerd's k8s.io
	// namespace before the kubelet starts (no registry is needed).
	Images []string
	// SandboxImage is the pause image's reference (one of Images).
	SandboxImage string
	// LockWait bounds the wait for another host node on this machine to go
	// away (default 5 minutes).
	LockWait time.Duration
}

// hostPrograms are the host's programs a host node runs, resolved.
type hostPrograms struct {
	kubelet, containerd, ctr, runc, ip, cniDir string
}

// CheckHost reports, in one error wrapping ErrHostUnavailable, everything
// this machine lacks for a host node: root, the programs, the CNI plugins,
// overlayfs, the kubelet build. It starts nothing and takes milliseconds.
func CheckHost(binDir string, o HostOptions) error {
	_, err := resolveHost(binDir, o)
	return err
}

func resolveHost(binDir string, o HostOptions) (hostPrograms, error) {
	var missing, fixes []string
	if runtime.GOOS != "linux" {
		missing = append(missing, "Linux (a host node runs the kubelet and containerd on this machine; this is "+runtime.GOOS+")")
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root (the kubelet, containerd and the CNI plugins manage mounts, cgroups and links)")
	}
	look := func(given, name, fix string) string {
		if given != "" {
			if st, err := os.Stat(given); err != nil || st.Mode()&0o111 == 0 {
				missing = append(missing, given)
				fixes = append(fixes, fix)
				return ""
			}
			return given
		}
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
			fixes = append(fixes, fix)
			return ""
		}
		return p
	}
	const apt = "apt-get install -y containerd runc containernetworking-plugins"
	var h hostPrograms
	kubelet := o.Kubelet
	if kubelet == "" && binDir != "" {
		kubelet = filepath.Join(binDir, "kubelet")
	}
	if kubelet == "" {
		missing = append(missing, "kubelet")
		fixes = append(fixes, "hack/controlplane.sh kubelet")
	} else {
		h.kubelet = look(kubelet, "kubelet", "hack/controlplane.sh kubelet")
	}
	h.containerd = look(o.Containerd, "containerd", apt)
	look("", "containerd-shim-runc-v2", apt) // containerd starts it by name
	h.ctr = look(o.Ctr, "ctr", apt)
	h.runc = look(o.Runc, "runc", apt)
	h.ip = look("", "ip", "apt-get install -y iproute2")
	look("", "mount", "apt-get install -y mount") // the kubelet mounts volumes with it
	dirs := []string{o.CNIBinDir}
	if o.CNIBinDir == "" {
		dirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	}
	for _, d := range dirs {
		ok := true
		for _, p := range []string{"bridge", "host-local", "loopback"} {
			if _, err := os.Stat(filepath.Join(d, p)); err != nil {
				ok = false
			}
		}
		if ok {
			h.cniDir = d
			break
		}
	}
	if h.cniDir == "" {
		missing = append(missing, "CNI plugins bridge, host-local, loopback in "+strings.Join(dirs, " or "))
		fixes = append(fixes, apt)
	}
	if b, err := os.ReadFile("/proc/filesystems"); err != nil || !strings.Contains(string(b), "\toverlay\n") {
		missing = append(missing, "overlayfs in the kernel (/proc/filesystems)")
		fixes = append(fixes, "modprobe overlay")
	}
	if len(missing) > 0 {
		slices.Sort(fixes)
		msg := "missing " + strings.Join(missing, ", ")
		if fixes = slices.Compact(fixes); len(fixes) > 0 {
			msg += " (fix: " + strings.Join(fixes, "; ") + ")"
		}
		return h, fmt.Errorf("%w: %s", ErrHostUnavailable, msg)
	}
	return h, nil
}

// hostNode is a running host node: containerd and the kubelet (started as
// Cluster processes, so Down stops them by PID) and the host state they
// changed, recorded before the start so the teardown can undo it.
type hostNode struct {
	cmder   Cmder
	dir     string // <state>/host
	sock    string // containerd's socket
	progs   hostPrograms
	snap    *hostSnapshot
	sys     hostSys // where the snapshot's ledger is
	lock    *os.File
	kubelet *process
	ctrd    *process
}

func (h *hostNode) path(parts ...string) string {
	return filepath.Join(append([]string{h.dir}, parts...)...)
}

// startHost brings the host node up on a running control plane: lock,
// snapshot, node link, containerd, image import, kubelet, node Ready.
func (c *Cluster) startHost(ctx context.Context, o HostOptions, binDir, server string, p *pki, cs kubernetes.Interface) error {
	progs, err := resolveHost(binDir, o)
	if err != nil {
		return err
	}
	h := &hostNode{cmder: c.cmder, dir: filepath.Join(c.StateDir, "host"), progs: progs}
	// A unix socket path is limited to 108 bytes.
	h.sock = h.path("containerd.sock")
	if len(h.sock) > 100 {
		return fmt.Errorf("host node: state dir %s is too long for a unix socket path; use a shorter one", c.StateDir)
	}
	wait := o.LockWait
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	if h.lock, err = lockHost(ctx, c.sys.lock, wait, c.log); err != nil {
		return err
	}
	c.host = h
	// A ledger left by a run that died without its teardown: undo it first.
	if old, err := readLedger(c.sys.ledger); err == nil {
		c.log.Warn("host node: cleaning up after a run that did not tear down", "state", old.StateDir)
		if err := old.sweep(context.WithoutCancel(ctx), c.cmder, c.sys, c.log); err != nil {
			return fmt.Errorf("host node: leftovers of an earlier run (%s) could not be removed: %w", old.StateDir, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("host node: %w", err)
	}
	if err := checkHostNetwork(ctx, c.cmder, c.sys, progs.ip); err != nil {
		return err
	}
	if h.snap, err = takeSnapshot(ctx, c.cmder, c.StateDir, h.dir, h.sock); err != nil {
		return fmt.Errorf("host node: %w", err)
	}
	h.sys = c.sys
	if err := h.snap.writeLedger(c.sys.ledger); err != nil {
		return fmt.Errorf("host node: %w", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		return fmt.Errorf("host node: %w", err)
	}
	if err := h.writeConfigs(o, server, p, ports[0], ports[1]); err != nil {
		return fmt.Errorf("host node: %w", err)
	}
	start := time.Now()
	for _, args := range [][]string{
		{"link", "add", hostNodeLink, "type", "bridge"},
		{"addr", "add", hostNodeIP + "/32", "dev", hostNodeLink},
		{"link", "set", hostNodeLink, "up"},
	} {
		if out, err := c.cmder.Command(ctx, progs.ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("host node: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}

	if h.ctrd, err = c.startEnv(ctx, "containerd", nil, progs.containerd, "--config", h.path("containerd.toml")); err != nil {
		return err
	}
	err = poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		if done, werr := h.ctrd.exited(); done {
			return false, "", fmt.Errorf("containerd exited (%v): %s", werr, logTail(filepath.Join(c.StateDir, "logs", "containerd.log"), 3))
		}
		out, err := h.ctr(ctx, "version")
		return err == nil, out, nil
	})
	if err != nil {
		return c.startError("containerd", err)
	}
	c.log.Info("containerd ready", "socket", h.sock, "after", time.Since(start).Round(time.Millisecond))
	for _, img := range o.Images {
		t0 := time.Now()
		if out, err := h.ctr(ctx, "images", "import", img); err != nil {
			return fmt.Errorf("host node: import %s: %w: %s", img, err, out)
		}
		c.log.Info("image imported", "archive", img, "after", time.Since(t0).Round(time.Millisecond))
	}

	// The kubelet's PATH leaves out /usr/sbin: without iptables it skips its
	// KUBE-FIREWALL / canary chains (it sets them up for kube-proxy, which
	// this node does not run), so no host firewall rule is touched.
	env := append(slices.DeleteFunc(os.Environ(), func(s string) bool { return strings.HasPrefix(s, "PATH=") }), "PATH=/usr/bin:/bin")
	if h.kubelet, err = c.startEnv(ctx, "kubelet", env, progs.kubelet,
		"--config="+h.path("kubelet.yaml"),
		"--kubeconfig="+h.path("kubelet.kubeconfig"),
		"--root-dir="+h.path("kubelet"),
		"--cert-dir="+h.path("kubelet", "pki"),
		"--hostname-override="+HostNodeName,
		"--node-ip="+hostNodeIP,
	); err != nil {
		return err
	}
	if err := waitHostReady(ctx, cs, h.kubelet); err != nil {
		return c.startError("kubelet", err)
	}
	c.log.Info("host node ready", "node", HostNodeName, "after", time.Since(start).Round(time.Millisecond))
	return nil
}

// ctr runs ctr against this node's containerd in the k8s.io namespace.
func (h *hostNode) ctr(ctx context.Context, args ...string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := h.cmder.Command(cctx, h.progs.ctr, append([]string{"--address", h.sock, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func waitHostReady(ctx context.Context, cs kubernetes.Interface, kubelet *process) error {
	return poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		if done, werr := kubelet.exited(); done {
			return false, "", fmt.Errorf("kubelet exited: %v", werr)
		}
		return nodeReady(ctx, cs, HostNodeName)
	})
}

// checkHostNetwork refuses to start when the node's links exist (another
// node, or leftovers no ledger describes) or the pod subnet is routed.
func checkHostNetwork(ctx context.Context, cmder Cmder, sys hostSys, ip string) error {
	for _, l := range []string{hostNodeLink, podBridge} {
		if sys.linkExists(l) {
			return fmt.Errorf("host node: network link %s already exists (a host node not started by regen, or leftovers: ip link del %s)", l, l)
		}
	}
	out, err := cmder.Command(ctx, ip, "-4", "route", "show", "match", podGateway).Output()
	if err != nil {
		return fmt.Errorf("host node: ip route: %w", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.HasPrefix(line, "default ") {
			return fmt.Errorf("host node: the pod subnet %s is already routed on this machine (%s)", podSubnet, line)
		}
	}
	return nil
}

// stop stops the node's processes: the kubelet first (pods stay as they
// are), then every container killed and removed through containerd, then
// containerd. The sweep (finish) runs once the control plane is down too.
func (h *hostNode) stop(ctx context.Context, log *slog.Logger) error {
	var errs []error
	if h.kubelet != nil {
		if err := h.kubelet.stop(ctx, 10*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if h.ctrd != nil {
		if done, _ := h.ctrd.exited(); !done {
			h.removeContainers(ctx, log)
		}
		if err := h.ctrd.stop(ctx, 10*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// finish undoes what the snapshot says changed (no process of this run is
// left by now: whatever still names its state dir is an orphan) and
// releases the machine's lock.
func (h *hostNode) finish(ctx context.Context, log *slog.Logger) error {
	var err error
	if h.snap != nil {
		err = h.snap.sweep(ctx, h.cmder, h.sys, log)
	}
	if h.lock != nil {
		_ = h.lock.Close() // releases the flock
	}
	return err
}

// removeContainers kills every task and deletes every container, so that
// the shims exit on their own; what remains is killed by the sweep.
func (h *hostNode) removeContainers(ctx context.Context, log *slog.Logger) {
	if out, err := h.ctr(ctx, "tasks", "ls", "-q"); err == nil {
		for id := range strings.FieldsSeq(out) {
			_, _ = h.ctr(ctx, "tasks", "kill", "--signal", "SIGKILL", id)
		}
		for id := range strings.FieldsSeq(out) {
			_, _ = h.ctr(ctx, "tasks", "delete", "--force", id)
		}
	}
	if out, err := h.ctr(ctx, "containers", "ls", "-q"); err == nil {
		for id := range strings.FieldsSeq(out) {
			if o, err := h.ctr(ctx, "containers", "delete", id); err != nil {
				log.Debug("host node: delete container", "id", id, "err", err, "out", o)
			}
		}
	}
}

// writeConfigs writes containerd's, the CNI network's and the kubelet's
// configuration under h.dir: every path they name is in the state dir,
// except what the programs hard-code (recorded and swept, see snapshot).
func (h *hostNode) writeConfigs(o HostOptions, server string, p *pki, kubeletPort, healthzPort int) error {
	for _, d := range []string{"containerd/root", "containerd/state", "containerd/opt", "runc", "cni/net.d", "cni/ipam", "kubelet", "pod-logs", "volume-plugins"} {
		if err := os.MkdirAll(h.path(d), 0o700); err != nil {
			return err
		}
	}
	sandbox := o.SandboxImage
	if sandbox == "" {
		sandbox = "registry.k8s.io/pause:3.10"
	}
	q := strconv.Quote
	containerd := `# written by regen (runner/kube): a containerd for one host node, all state under ` + h.dir + `
version = 2
root = ` + q(h.path("containerd", "root")) + `
state = ` + q(h.path("containerd", "state")) + `
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ` + q(h.sock) + `

[ttrpc]
  address = ` + q(h.path("containerd.ttrpc.sock")) + `

[plugins."io.containerd.internal.v1.opt"]
  path = ` + q(h.path("containerd", "opt")) + `

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ` + q(sandbox) + `
  # The sandbox has no CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below
  # its parent's, so containers keep containerd's.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = ` + q(h.progs.runc) + `
        Root = ` + q(h.path("runc")) + `
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ` + q(h.progs.cniDir) + `
    conf_dir = ` + q(h.path("cni", "net.d")) + `
    max_conf_num = 1
`
	cni := `{
  "cniVersion": "1.0.0",
  "name": "` + cniNetwork + `",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "` + podBridge + `",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "` + podSubnet + `"}]],
        "dataDir": ` + q(h.path("cni", "ipam")) + `
      }
    }
  ]
}
`
	kubelet := `# written by regen (runner/kube)
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ` + hostNodeIP + `
port: ` + strconv.Itoa(kubeletPort) + `
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ` + strconv.Itoa(healthzPort) + `
tlsCertFile: ` + q(p.KubeletServingCert) + `
tlsPrivateKeyFile: ` + q(p.KubeletServingKey) + `
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: ` + q(p.CACert) + `
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://` + h.sock + `
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
podLogsDir: ` + q(h.path("pod-logs")) + `
volumePluginDir: ` + q(h.path("volume-plugins")) + `
# An empty resolv.conf: pods get no nameserver, so nothing they do resolves
# names off this machine.
resolvConf: ` + q(h.path("resolv.conf")) + `
clusterDomain: cluster.local
registerNode: true
serializeImagePulls: false
# Never garbage-collect the imported images (there is no registry to pull
# them back from) and evict only when the disk is really full.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
maxPods: 20
`
	for name, body := range map[string]string{
		"containerd.toml":             containerd,
		"cni/net.d/10-regen.conflist": cni,
		"kubelet.yaml":                kubelet,
		"resolv.conf":                 "",
	} {
		if err := os.WriteFile(h.path(name), []byte(body), 0o600); err != nil {
			return err
		}
	}
	return writeKubeconfig(h.path("kubelet.kubeconfig"), server, p, "system:node:"+HostNodeName,
		&clientcmdapi.AuthInfo{ClientCertificate: p.NodeCert, ClientKey: p.NodeKey})
}

// lockHost takes the machine-wide host-node lock (flock on the file hostLock), waiting
// up to wait for another run's node to go away. Closing the file releases it;
// so does the process's death.
func lockHost(ctx context.Context, hostLock string, wait time.Duration, log *slog.Logger) (*os.File, error) {
	f, err := os.OpenFile(hostLock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("host node: lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	logged := false
	for {
		busy, err := tryLock(f)
		if err == nil && !busy {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return f, nil
		}
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("host node: lock %s: %w", hostLock, err)
		}
		if !logged {
			b, _ := os.ReadFile(hostLock)
			log.Info("host node: waiting for another run's host node to stop", "lock", hostLock, "pid", strings.TrimSpace(string(b)))
			logged = true
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(hostLock)
			_ = f.Close()
			return nil, &TimeoutError{Phase: "host node lock " + hostLock, After: wait, Detail: "held by pid " + strings.TrimSpace(string(b))}
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("host node: lock: %w", context.Cause(ctx))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
