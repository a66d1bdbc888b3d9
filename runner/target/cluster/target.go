package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/klog/v2"

	"github.com/regen-dev/regen/runner/deploy"
	"github.com/regen-dev/regen/runner/kube"
	"github.com/regen-dev/regen/runner/ociimage"
	"github.com/regen-dev/regen/runner/target"
)

// Options configure a cluster target.
type Options struct {
	Env          string // dev, prod, gpu, comfyui, comfyui-cpu
	Kubeconfig   string // empty: $KUBECONFIG, ~/.kube/config, else kind (dev)
	KustomizeDir string
	RunID        string
	Keep         bool   // leave the namespace (and a kind cluster) for debugging
	KindName     string // default "regen"
	Image        string // loaded into kind (default regen-executor:dev)
	// ImageArchives are further OCI image archives a node this run brings
	// up gets (imported into a host node's containerd, loaded into kind):
	// the images of an overlay other than dev, e.g. hack/comfyui-image.sh's
	// ComfyUI for comfyui-cpu.
	ImageArchives []string
	// KindNodeImage is kind's node image (default $REGEN_KIND_NODE_IMAGE,
	// else kind's own kindest/node): hack/kindnode.sh builds one offline.
	KindNodeImage string
	// Mode picks how the cluster is reached: auto (default), kubeconfig,
	// kind or host (see Preflight).
	Mode Mode
	// Host mode: the control-plane and kubelet binaries (default
	// $REGEN_KUBE_BIN), the static executor binary packed into the image
	// (default: regen-executor next to this program) and the models it
	// carries at /models (default fixtures/models).
	KubeBin, ExecutorBinary, Models string
	Timeouts                        kube.Timeouts
	// DiagnosticsDir receives the collectors' output on failure.
	DiagnosticsDir string
	Log            *slog.Logger
	// Notify receives the few lines a user should see whatever the log
	// level: which cluster was chosen and why, bring-up and teardown.
	Notify func(string)
	Probe  *Probe // nil: SystemProbe
	// PortForward reaches every pod by port-forward, never by its IP
	// (also when $REGEN_PORT_FORWARD is 1). Otherwise a pod whose IP answers
	// /system_stats as the executor from this host is reached directly,
	// the others by port-forward.
	PortForward bool
}

func (o Options) notify(msg string) {
	if o.Notify != nil {
		o.Notify(msg)
	}
}

// Target deploys an overlay and reaches every executor pod by its IP when
// that answers from this host, else by port-forward.
type Target struct {
	opts     Options
	deployer *kube.Deployer
	rel      *kube.Release
	stops    []chan struct{}
	eps      []target.Endpoint
	routes   []Route
	hc       *http.Client
	host     *hostCluster // host mode: the cluster this run brought up
	kind     *kindCluster // kind mode: the cluster this run created or reused
	cfg      *rest.Config
	mode     Mode // how Start reached the cluster
	// failedOnce: a failure was collected; the host node's logs are kept.
	failedOnce bool
}

// RestConfig is the cluster's client config once Start has reached it (nil
// before): suites inspect the pods the run deployed.
func (t *Target) RestConfig() *rest.Config { return t.cfg }

// Namespace is the run's namespace once deployed ("" before and after).
func (t *Target) Namespace() string {
	if t.rel == nil {
		return ""
	}
	return t.rel.Namespace
}

// Routes says how Start reached each executor pod (nil before), in the
// order of the endpoints.
func (t *Target) Routes() []Route { return slices.Clone(t.routes) }

var _ target.Target = (*Target)(nil)

// New returns a target; nothing happens until Start.
func New(opts Options) *Target {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.KindName == "" {
		opts.KindName = "regen"
	}
	if opts.Image == "" {
		opts.Image = ociimage.DefaultExecutorRef
	}
	if opts.KustomizeDir == "" {
		opts.KustomizeDir = deploy.DefaultDir
	}
	return &Target{opts: opts, hc: &http.Client{Timeout: 10 * time.Second}}
}

// Describe names the environment and, once started, the namespace.
func (t *Target) Describe() string {
	where := "cluster " + t.opts.Env
	if t.mode == ModeHost {
		where += " on host node " + kube.HostNodeName
	}
	if t.rel != nil {
		return where + " (namespace " + t.rel.Namespace + ")"
	}
	return where
}

// Start runs Preflight, gets a cluster (kubeconfig or kind), deploys the
// overlay, reaches each executor pod (its IP, else a port-forward: see
// Options.PortForward) and waits for /system_stats.
func (t *Target) Start(ctx context.Context) (_ []target.Endpoint, err error) {
	defer func() {
		if err != nil && t.host != nil { // a host cluster that never served
			err = errors.Join(err, t.host.down(t.opts.Log, true, t.opts.Keep, t.opts.DiagnosticsDir))
			t.host, t.rel = nil, nil // the namespace went with the cluster
		}
		if err != nil && t.kind != nil { // a kind cluster that never served
			created := t.kind.created && !t.opts.Keep
			err = errors.Join(err, t.kind.down(t.opts.Log, true, t.opts.Keep, t.opts.DiagnosticsDir))
			t.kind = nil
			if created {
				t.rel = nil // the namespace went with the cluster
			}
		}
	}()
	// client-go logs through klog to stderr by default; route it into the
	// run's logger, at Debug.
	klog.SetSlogLogger(slog.New(quietHandler{t.opts.Log.Handler()}))
	probe := SystemProbe()
	probe.Host = func() error { return hostAvailable(t.opts) }
	if t.opts.Probe != nil {
		probe = *t.opts.Probe
	}
	plan, err := Preflight(ctx, probe, t.opts.Env, t.opts.Kubeconfig, t.opts.Mode)
	if err != nil {
		return nil, err
	}
	switch {
	case plan.Why != "":
		t.opts.notify(fmt.Sprintf("cluster: %s: %s; using a host node on this machine", t.opts.Env, plan.Why))
	case plan.Mode == ModeHost:
		t.opts.notify(fmt.Sprintf("cluster: %s: using a host node on this machine (--cluster host)", t.opts.Env))
	case plan.Mode == ModeKind:
		t.opts.notify(fmt.Sprintf("cluster: %s: --cluster kind: %s", t.opts.Env, plan.KindWhy))
	}
	t.mode = plan.Mode
	// Rendered and checked before any cluster is touched: a broken overlay,
	// or one a node this run brings up cannot run, costs no bring-up.
	dir, err := deploy.OverlayDir(t.opts.KustomizeDir, t.opts.Env)
	if err != nil {
		return nil, err
	}
	manifests, err := deploy.RenderAndValidate(ctx, t.opts.Env, dir)
	if err != nil {
		return nil, err
	}
	if plan.Mode == ModeHost || plan.Mode == ModeKind {
		have, err := nodeImages(t.opts)
		if err != nil {
			return nil, err
		}
		if err := checkNodeImages(t.opts.Env, manifests, have, plan.Mode); err != nil {
			return nil, err
		}
	}
	cfg, err := t.restConfig(ctx, plan)
	if err != nil {
		return nil, err
	}
	t.cfg = cfg
	if t.deployer, err = kube.NewDeployer(cfg, t.opts.Log); err != nil {
		return nil, err
	}
	t.rel, err = t.deployer.Deploy(ctx, kube.DeployOptions{
		Env: t.opts.Env, RunID: t.opts.RunID, Manifests: manifests,
		Timeouts: t.opts.Timeouts, DiagnosticsDir: t.opts.DiagnosticsDir,
	}, t.opts.Keep)
	if err != nil {
		return nil, err
	}
	pods, err := t.deployer.Clientset().CoreV1().Pods(t.rel.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=regen-executor"})
	if err != nil {
		return nil, fmt.Errorf("list executor pods: %w", err)
	}
	slices.SortFunc(pods.Items, func(a, b corev1.Pod) int { return cmpString(a.Name, b.Name) })
	forced := forcedBy(t.opts.PortForward, os.Getenv)
	r := newRouter(forced, func(pod string) (int, error) { return t.forward(cfg, pod) })
	t.routes = nil
	for _, p := range pods.Items {
		rt, err := r.route(ctx, p)
		if err != nil {
			return nil, t.failed(ctx, err)
		}
		t.opts.Log.Debug("executor pod route", "pod", p.Name, "url", rt.URL, "direct", rt.Direct, "why", rt.Why)
		if _, err := target.SystemStats(ctx, t.hc, rt.URL); err != nil {
			return nil, t.failed(ctx, fmt.Errorf("pod %s: %w", p.Name, err))
		}
		t.routes = append(t.routes, rt)
		t.eps = append(t.eps, target.Endpoint{Name: p.Name, URL: rt.URL})
	}
	if len(t.eps) == 0 {
		return nil, t.failed(ctx, errors.New("no executor pod after the rollout"))
	}
	names := make([]string, len(t.eps))
	for i, e := range t.eps {
		names[i] = e.Name
	}
	t.opts.notify(fmt.Sprintf("deployed overlay %s to namespace %s: pod %s ready", t.opts.Env, t.rel.Namespace, strings.Join(names, ", ")))
	t.opts.notify(routesNotice(t.routes))
	return t.eps, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// restConfig loads the kubeconfig, brings a host node up, or creates/reuses
// the kind cluster and loads the executor image into it.
func (t *Target) restConfig(ctx context.Context, plan Plan) (*rest.Config, error) {
	path := plan.Kubeconfig
	if plan.Mode == ModeHost {
		h, err := startHost(ctx, t.opts)
		if err != nil {
			return nil, err
		}
		t.host = h
		return h.cluster.Config, nil
	}
	if plan.Mode == ModeKind {
		k, err := startKind(ctx, t.opts, plan)
		if err != nil {
			return nil, err
		}
		t.kind = k
		path = k.kubeconfig
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

// forward port-forwards a free loopback port to the pod's 8188.
func (t *Target) forward(cfg *rest.Config, pod string) (int, error) {
	rt, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return 0, fmt.Errorf("port-forward %s: %w", pod, err)
	}
	u := t.deployer.Clientset().CoreV1().RESTClient().Post().Resource("pods").Namespace(t.rel.Namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:8188"}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return 0, fmt.Errorf("port-forward %s: %w", pod, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errc:
		return 0, fmt.Errorf("port-forward %s: %w", pod, err)
	case <-time.After(30 * time.Second):
		close(stop)
		return 0, &kube.TimeoutError{Phase: "port-forward to " + pod, After: 30 * time.Second}
	}
	t.stops = append(t.stops, stop)
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		return 0, fmt.Errorf("port-forward %s: no local port: %w", pod, err)
	}
	return int(ports[0].Local), nil
}

// failed collects diagnostics and tears down (unless Keep) after a failure
// past the rollout.
func (t *Target) failed(ctx context.Context, err error) error {
	t.failedOnce = true
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if diag, cerr := t.deployer.Collect(cctx, t.rel.Namespace, nil); cerr == nil && t.opts.DiagnosticsDir != "" {
		_ = diag.Save(t.opts.DiagnosticsDir)
	}
	if cerr := t.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// Fingerprint returns the first pod's /system_stats.
func (t *Target) Fingerprint(ctx context.Context) (json.RawMessage, error) {
	if len(t.eps) == 0 {
		return nil, errors.New("cluster target not started")
	}
	return target.SystemStats(ctx, t.hc, t.eps[0].URL)
}

// Close stops the port-forwards and deletes the namespace unless Keep.
func (t *Target) Close() error {
	for _, s := range t.stops {
		close(s)
	}
	t.stops = nil
	var err error
	if t.rel != nil && !t.opts.Keep {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		timeout := t.opts.Timeouts.Cleanup
		if timeout <= 0 {
			timeout = kube.DefaultTimeouts(t.opts.Env).Cleanup
		}
		if t.host != nil {
			// The cluster goes with the node: stopping the pods is what
			// leaves the host clean; waiting for the namespace is not needed.
			err = t.deployer.StopWorkloads(ctx, t.rel.Namespace, timeout)
		} else {
			err = t.deployer.Teardown(ctx, t.rel.Namespace, timeout)
		}
		t.rel = nil
	}
	if t.host != nil {
		err = errors.Join(err, t.host.down(t.opts.Log, err != nil || t.failedOnce, t.opts.Keep, t.opts.DiagnosticsDir))
		t.host = nil
	}
	if t.kind != nil {
		err = errors.Join(err, t.kind.down(t.opts.Log, err != nil || t.failedOnce, t.opts.Keep, t.opts.DiagnosticsDir))
		t.kind = nil
	}
	return err
}
