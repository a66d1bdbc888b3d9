package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/regen-dev/regen/runner/kube"
	"github.com/regen-dev/regen/runner/ociimage"
)

// hostCluster is a cluster brought up for one run: the local control plane
// and a host node, its images built from this machine's binaries.
type hostCluster struct {
	cluster *kube.Cluster
	dir     string
	notify  func(string)
}

// hostInputs resolves the host mode's inputs: the kube bin dir, the
// executor and pause binaries, the models directory.
func hostInputs(o Options) (binDir, executor, pause, models string, err error) {
	binDir = o.KubeBin
	if binDir == "" {
		binDir = kube.DefaultBinDir() // $REGEN_KUBE_BIN, else hack/controlplane.sh's cache
	}
	if err := kube.CheckBinaries(binDir); err != nil {
		return "", "", "", "", fmt.Errorf("%w (then hack/controlplane.sh kubelet, or pass --kube-bin)", err)
	}
	executor = o.ExecutorBinary
	if executor == "" {
		if executor, err = ociimage.BesideExecutable("regen-executor"); err != nil {
			return "", "", "", "", err
		}
	}
	pause = filepath.Join(filepath.Dir(executor), "regen-pause")
	models = o.Models
	if models == "" {
		models = "fixtures/models"
	}
	for _, f := range []string{executor, pause} {
		if err := ociimage.CheckStatic(f); err != nil {
			return "", "", "", "", fmt.Errorf("%w (build both with make build)", err)
		}
	}
	if st, err := os.Stat(models); err != nil || !st.IsDir() {
		return "", "", "", "", fmt.Errorf("models directory %s: not found (run from the repository root or pass --models)", models)
	}
	return binDir, executor, pause, models, nil
}

// hostAvailable is Preflight's host probe.
func hostAvailable(o Options) error {
	binDir, _, _, _, err := hostInputs(o)
	if err != nil {
		return err
	}
	return kube.CheckHost(binDir, kube.HostOptions{})
}

// startHost builds the executor and pause images as OCI archives, brings the
// control plane and the host node up, and returns them. The state lives in
// a fresh directory under the system temp dir (short: containerd's socket
// path must fit a unix socket address).
func startHost(ctx context.Context, o Options) (*hostCluster, error) {
	binDir, executor, pause, models, err := hostInputs(o)
	if err != nil {
		return nil, fmt.Errorf("host node: %w", err)
	}
	dir, err := os.MkdirTemp("", "regen-host-")
	if err != nil {
		return nil, fmt.Errorf("host node: %w", err)
	}
	h := &hostCluster{dir: dir, notify: o.notify}
	t0 := time.Now()
	images := filepath.Join(dir, "images")
	if err := os.MkdirAll(images, 0o700); err != nil {
		return nil, fmt.Errorf("host node: %w", err)
	}
	exSpec, err := ociimage.Executor(ociimage.ExecutorOptions{Binary: executor, Models: models, Ref: o.Image})
	if err != nil {
		return nil, fmt.Errorf("host node: executor image: %w", err)
	}
	pauseSpec, err := ociimage.Pause(pause, ociimage.DefaultPauseRef)
	if err != nil {
		return nil, fmt.Errorf("host node: pause image: %w", err)
	}
	var archives []string
	for _, im := range []struct {
		name string
		spec ociimage.Spec
	}{{"pause.oci.tar", pauseSpec}, {"executor.oci.tar", exSpec}} {
		path := filepath.Join(images, im.name)
		if _, err := ociimage.Write(path, im.spec); err != nil {
			return nil, fmt.Errorf("host node: %w", err)
		}
		archives = append(archives, path)
	}
	sandbox, _ := ociimage.NormalizeRef(ociimage.DefaultPauseRef)
	o.Log.Info("host node: images built", "executor", exSpec.Ref, "pause", sandbox, "after", time.Since(t0).Round(time.Millisecond))
	archives = append(archives, o.ImageArchives...)
	h.cluster, err = kube.Up(ctx, kube.Options{
		BinDir: binDir, StateDir: dir, Log: o.Log,
		Host: &kube.HostOptions{Images: archives, SandboxImage: sandbox},
	})
	if err != nil {
		return nil, fmt.Errorf("%w (state and logs: %s)", err, dir)
	}
	o.Log.Info("host node up: control plane and kubelet on this machine's containerd", "node", kube.HostNodeName, "state", dir, "after", time.Since(t0).Round(time.Millisecond))
	o.notify(fmt.Sprintf("host node %s up in %.1fs: control plane + kubelet on this machine's containerd, pods on %s (state %s)", kube.HostNodeName, time.Since(t0).Seconds(), "bridge "+kube.HostPodBridge, dir))
	return h, nil
}

// down tears the cluster and the node down. After a failure the
// components' logs and configuration are copied to diagDir/host-node first
// (they are what explains a node that misbehaved); the state dir is removed
// unless keep (--keep) asks to leave it, or the teardown itself failed.
func (h *hostCluster) down(log *slog.Logger, failed, keep bool, diagDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	err := h.cluster.Down(ctx)
	if (failed || err != nil) && diagDir != "" {
		dst := filepath.Join(diagDir, "host-node")
		if cerr := copyLogs(h.dir, dst); cerr != nil {
			log.Warn("host node: copy logs", "err", cerr)
		} else {
			h.notify("host node logs (containerd, kubelet, control plane) and configs: " + dst)
		}
	}
	if err != nil || keep {
		log.Info("host node down; state kept", "state", h.dir, "after", time.Since(t0).Round(time.Millisecond), "err", err)
		h.notify(fmt.Sprintf("host node down in %.1fs; state kept in %s", time.Since(t0).Seconds(), h.dir))
		return err
	}
	log.Info("host node down", "after", time.Since(t0).Round(time.Millisecond))
	h.notify(fmt.Sprintf("host node down in %.1fs, host restored", time.Since(t0).Seconds()))
	return os.RemoveAll(h.dir)
}

// copyLogs copies the state dir's logs/ and the host node's configuration
// files into dst.
func copyLogs(state, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	var srcs []string
	logs, _ := filepath.Glob(filepath.Join(state, "logs", "*.log"))
	srcs = append(srcs, logs...)
	for _, f := range []string{"containerd.toml", "kubelet.yaml", "cni/net.d/10-regen.conflist"} {
		srcs = append(srcs, filepath.Join(state, "host", f))
	}
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(src)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// quietHandler passes every record on at Debug level: client-go's klog
// output (port-forward's "broken pipe" when a client closes a forwarded
// connection first, reflector retries) is for -v, not for the run's output.
type quietHandler struct{ slog.Handler }

// Enabled passes klog's V(0)–V(4) (slog levels down to Debug), not its
// request and response dumps (V(6) and up).
func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelDebug && h.Handler.Enabled(ctx, slog.LevelDebug)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	// logr hands errors over without asking Enabled first.
	if !h.Enabled(ctx, r.Level) {
		return nil
	}
	r.Level = slog.LevelDebug
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(a)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
