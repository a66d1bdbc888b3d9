package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/e2e-framework/support/kind"

	"github.com/regen-dev/regen/runner/ociimage"
)

// The environment a kind run reads (hack/kindnode.sh and hack/e2e.sh set them).
const (
	// EnvKindNodeImage names the kind node image (WithImage); unset, kind
	// uses its pinned kindest/node, which it pulls from a registry.
	EnvKindNodeImage = "REGEN_KIND_NODE_IMAGE"
	// EnvKind is the kind binary when it is not on PATH (hack/kindnode.sh kind).
	EnvKind = "REGEN_KIND"
)

// RegenNodeImagePrefix starts the reference of the node image the project
// builds offline (hack/kindnode.sh): it has no kindnetd, so kind must not
// apply its default CNI; the image's own bridge CNI config serves instead.
const RegenNodeImagePrefix = "regen.local/kindnode:"

// The pod and Service ranges regen's node image is built for: its bridge CNI
// config (hack/kindnode/10-regen-bridge.conflist) hands pods addresses from
// the first and a route to the second (kube-proxy's rules take Service
// traffic from there), so the cluster must use exactly these (kind's defaults).
const (
	RegenPodSubnet     = "10.244.0.0/16"
	RegenServiceSubnet = "10.96.0.0/16"
)

// KindConfig is the kind cluster configuration a run creates its cluster
// with: one control-plane node; with regen's node image, kind's default CNI
// (kindnetd, which that image lacks) is disabled and the pod and Service
// ranges are the ones the image's CNI config routes.
func KindConfig(nodeImage string) string {
	var b strings.Builder
	b.WriteString("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n")
	if strings.HasPrefix(nodeImage, RegenNodeImagePrefix) {
		b.WriteString("networking:\n  # regen's node image: a bridge CNI config in the image, no kindnetd\n  disableDefaultCNI: true\n")
		fmt.Fprintf(&b, "  podSubnet: %q\n  serviceSubnet: %q\n", RegenPodSubnet, RegenServiceSubnet)
	}
	return b.String()
}

// kindCluster is the kind cluster a run uses: created by it (and deleted
// after, unless --keep) or found already there (left as it was).
type kindCluster struct {
	k          *kind.Cluster
	bin        string // the kind binary
	name       string
	dir        string // the run's kind files: config, kubeconfig, executor image
	kubeconfig string
	created    bool
	notify     func(string)
}

// kindNodeImage is the node image a run asks kind for ("" for kind's own).
func kindNodeImage(o Options) string {
	if o.KindNodeImage != "" {
		return o.KindNodeImage
	}
	return os.Getenv(EnvKindNodeImage)
}

// startKind creates (or reuses) the kind cluster through e2e-framework's kind
// provider, with an explicit kubeconfig path (kind otherwise writes
// ~/.kube/config, which then changes what --cluster auto picks), and loads
// the executor image from an OCI archive built here (no Docker build, no
// base image from a registry).
func startKind(ctx context.Context, o Options, plan Plan) (*kindCluster, error) {
	executor, models, err := imageInputs(o)
	if err != nil {
		return nil, fmt.Errorf("kind: %w", err)
	}
	dir, err := os.MkdirTemp("", "regen-kind-")
	if err != nil {
		return nil, fmt.Errorf("kind: %w", err)
	}
	c := &kindCluster{name: o.KindName, dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig"), notify: o.notify, bin: plan.Kind}
	if c.bin == "" {
		c.bin = "kind"
	}
	node := kindNodeImage(o)
	c.k = kind.NewCluster(o.KindName)
	c.k.WithVersion(KindVersion)
	c.k.WithPath(c.bin)
	if node != "" {
		c.k.WithOpts(kind.WithImage(node))
	}
	cfg := filepath.Join(dir, "kind.yaml")
	if err := os.WriteFile(cfg, []byte(KindConfig(node)), 0o644); err != nil {
		return nil, errors.Join(fmt.Errorf("kind: write config: %w", err), os.RemoveAll(dir))
	}
	existed := c.exists(ctx)
	t0 := time.Now()
	if _, err := c.k.Create(ctx, "--config", cfg, "--kubeconfig", c.kubeconfig); err != nil {
		return nil, errors.Join(fmt.Errorf("kind cluster %s: %w", o.KindName, err), c.cleanup())
	}
	c.created = !existed
	nodeDesc := node
	if nodeDesc == "" {
		nodeDesc = "kind's default node image"
	}
	if c.created {
		o.notify(fmt.Sprintf("kind cluster %s created in %.1fs (node image %s, kubeconfig %s)", o.KindName, time.Since(t0).Seconds(), nodeDesc, c.kubeconfig))
	} else {
		o.notify(fmt.Sprintf("kind cluster %s already there: reused, and left after the run", o.KindName))
	}
	// The kubeconfig: kind's own (e2e-framework wrote it to a temp file after
	// `kind get kubeconfig`); ours is only written when this run created it.
	if kc := c.k.GetKubeconfig(); kc != "" {
		c.kubeconfig = kc
	}
	t0 = time.Now()
	archive := filepath.Join(dir, "executor.oci.tar")
	spec, err := ociimage.Executor(ociimage.ExecutorOptions{Binary: executor, Models: models, Ref: o.Image})
	if err == nil {
		_, err = ociimage.Write(archive, spec)
	}
	if err == nil {
		err = c.k.LoadImageArchive(ctx, archive)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("load %s into kind: %w", o.Image, err), c.down(o.Log, true, false, o.DiagnosticsDir))
	}
	o.notify(fmt.Sprintf("executor image %s loaded into kind in %.1fs (OCI archive, kind load image-archive)", spec.Ref, time.Since(t0).Seconds()))
	for _, a := range o.ImageArchives {
		t0 = time.Now()
		if err := c.k.LoadImageArchive(ctx, a); err != nil {
			return nil, errors.Join(fmt.Errorf("load %s into kind: %w", a, err), c.down(o.Log, true, false, o.DiagnosticsDir))
		}
		o.notify(fmt.Sprintf("image archive %s loaded into kind in %.1fs", a, time.Since(t0).Seconds()))
	}
	return c, nil
}

// exists says whether the cluster is there before this run.
func (c *kindCluster) exists(ctx context.Context) bool {
	out, err := exec.CommandContext(ctx, c.bin, "get", "clusters").Output()
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) == c.name {
			return true
		}
	}
	return false
}

// down exports the node's logs after a failure, then deletes the cluster
// when this run created it (unless keep). The delete names the run's
// kubeconfig: without it kind edits (and may create) ~/.kube/config.
func (c *kindCluster) down(log *slog.Logger, failed, keep bool, diagDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if failed && diagDir != "" {
		dst := filepath.Join(diagDir, "kind-node")
		if err := c.k.ExportLogs(ctx, dst); err != nil {
			log.Warn("kind: export logs", "err", err)
		} else {
			c.notify("kind node logs (kubelet, containerd, pods, journal): " + dst)
		}
	}
	if !c.created || keep {
		if c.created {
			c.notify(fmt.Sprintf("kind cluster %s kept (--keep): delete it with %s delete cluster --name %s", c.name, c.bin, c.name))
		}
		return c.cleanup()
	}
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, c.bin, "delete", "cluster", "--name", c.name, "--kubeconfig", filepath.Join(c.dir, "kubeconfig")).CombinedOutput()
	if err != nil {
		return errors.Join(fmt.Errorf("delete kind cluster %s: %w: %s", c.name, err, strings.TrimSpace(string(out))), c.cleanup())
	}
	c.notify(fmt.Sprintf("kind cluster %s deleted in %.1fs", c.name, time.Since(t0).Seconds()))
	return c.cleanup()
}

// cleanup removes the run's kind files and e2e-framework's kubeconfig copy.
func (c *kindCluster) cleanup() error {
	var err error
	if kc := c.k.GetKubeconfig(); kc != "" && !strings.HasPrefix(kc, c.dir) {
		err = os.Remove(kc)
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

// imageInputs resolves the executor binary and the models directory the
// executor image is built from.
func imageInputs(o Options) (executor, models string, err error) {
	executor = o.ExecutorBinary
	if executor == "" {
		if executor, err = ociimage.BesideExecutable("regen-executor"); err != nil {
			return "", "", err
		}
	}
	if err := ociimage.CheckStatic(executor); err != nil {
		return "", "", fmt.Errorf("%w (build it with make build)", err)
	}
	models = o.Models
	if models == "" {
		models = "fixtures/models"
	}
	if st, err := os.Stat(models); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("models directory %s: not found (run from the repository root or pass --models)", models)
	}
	return executor, models, nil
}
