package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	kube "github.com/regen-dev/regen/runner/cluster"
	"github.com/regen-dev/regen/runner/ociimage"
)

// PauseImage is the sandbox image a host node runs (built from regen-pause).
const PauseImage = "regen-pause:3.10"

// hostCluster is a cluster brought up for one run: the local control plane
// and a host node, its images built from this machine's binaries.
type hostCluster struct {
	cluster *kube.Cluster
	dir     string
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
	self, _ := os.Executable()
	executor = o.ExecutorBinary
	if executor == "" {
		executor = filepath.Join(filepath.Dir(self), "regen-executor")
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
	h := &hostCluster{dir: dir}
	t0 := time.Now()
	images := filepath.Join(dir, "images")
	if err := os.MkdirAll(images, 0o700); err != nil {
		return nil, fmt.Errorf("host node: %w", err)
	}
	exSpec, err := ociimage.Executor(ociimage.ExecutorOptions{Binary: executor, Models: models, Ref: o.Image})
	if err != nil {
		return nil, fmt.Errorf("host node: executor image: %w", err)
	}
	pauseSpec, err := ociimage.Pause(pause, PauseImage)
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
	sandbox, _ := ociimage.NormalizeRef(PauseImage)
	o.Log.Info("host node: images built", "executor", exSpec.Ref, "pause", sandbox, "after", time.Since(t0).Round(time.Millisecond))
	h.cluster, err = kube.Up(ctx, kube.Options{
		BinDir: binDir, StateDir: dir, Log: o.Log,
		Host: &kube.HostOptions{Images: archives, SandboxImage: sandbox},
	})
	if err != nil {
		return nil, fmt.Errorf("%w (state and logs: %s)", err, dir)
	}
	o.Log.Info("host node up: control plane and kubelet on this machine's containerd", "node", kube.HostNodeName, "state", dir, "after", time.Since(t0).Round(time.Millisecond))
	return h, nil
}

// down tears the cluster and the node down; the state dir (logs of every
// component, configs) is kept when keep is set (a failure, --keep) and
// removed otherwise.
func (h *hostCluster) down(log *slog.Logger, keep bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	err := h.cluster.Down(ctx)
	if err != nil || keep {
		log.Info("host node down; state and component logs kept", "state", h.dir, "after", time.Since(t0).Round(time.Millisecond))
		return err
	}
	log.Info("host node down", "after", time.Since(t0).Round(time.Millisecond))
	return os.RemoveAll(h.dir)
}

// quietHandler passes every record on at Debug level: client-go's klog
// output (port-forward's "broken pipe" when a client closes a forwarded
// connection first, reflector retries) is for -v, not for the run's output.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.Handler.Enabled(ctx, slog.LevelDebug)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(a)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
