//go:build !regenfast

package app

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/regen-dev/regen/executor"
	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cudaemu"
	"github.com/regen-dev/regen/runner/deploy"
	"github.com/regen-dev/regen/runner/target/factory"
)

// targetFlags are the flags that say where cases run, shared by every
// command that replays (run, variants). They become factory.Options and
// nothing more: runner/target/factory builds the target.
type targetFlags struct {
	env, kustomize, models string
	urls                   []string // --url, once (at most maxURLs times)
	maxURLs                int      // 0: one
	replicas               int
	kubeconfig, cluster    string
	keep, portForward      bool
	kubeBin, executorBin   string
	imageArchives          []string
	envSet                 bool
	// backend, tf32, nondeterministic choose the local executor's
	// backend, as regen-executor's flags of the same names do.
	backend                string
	tf32, nondeterministic bool
}

// bind defines the flags on fs.
func (t *targetFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&t.env, "env", factory.Local, "environment: local (in-process executor); an overlay under --kustomize/overlays, e.g. dev, prod, gpu (deploy it to kind, a host node or the kubeconfig's cluster); or an http(s):// URL")
	usage := "replay on the ComfyUI-compatible server at this URL instead of --env"
	if t.maxURLs > 1 {
		usage += "; twice (--url A --url B): the same variants on both, and each variant's distance from A's output to B's"
	}
	fs.Func("url", usage, func(v string) error {
		if n := max(t.maxURLs, 1); len(t.urls) >= n {
			return fmt.Errorf("at most %d --url", n)
		}
		t.urls = append(t.urls, v)
		return nil
	})
	fs.StringVar(&t.kustomize, "kustomize", deploy.DefaultDir, "kustomize root: every directory of <dir>/overlays with a kustomization is an environment")
	fs.StringVar(&t.models, "models", "fixtures/models", "local: models directory (checkpoints/, loras/)")
	fs.IntVar(&t.replicas, "replicas", 1, "local: number of in-process executor servers")
	fs.StringVar(&t.backend, "backend", "cpu", "local: the executor's compute backend: cpu (bit-exact) or cuda-emulated (the CUDA kernels' arithmetic on the CPU; environment class cuda-emulated[-tf32][-nondet])")
	fs.BoolVar(&t.tf32, "tf32", false, "local, cuda-emulated: the tensor-core (TF32) attention kernel")
	fs.BoolVar(&t.nondeterministic, "nondeterministic", false, "local, cuda-emulated: shuffle the key-split combine order on every call, as GPU atomics would")
	fs.StringVar(&t.kubeconfig, "kubeconfig", "", "overlays: kubeconfig of the cluster to deploy into (default $KUBECONFIG, ~/.kube/config; dev falls back to kind)")
	fs.BoolVar(&t.keep, "keep", false, "overlays: keep the namespace (and a kind cluster) after the run, for debugging; host: keep the node's state dir and logs")
	fs.StringVar(&t.cluster, "cluster", "auto", "overlays: how to reach a cluster: auto (kubeconfig, else for dev kind, else a host node), kubeconfig, kind, host (a single-node cluster on this machine's containerd, brought up and torn down by the run; needs root; dev, or an overlay whose images --image-archive gives)")
	fs.BoolVar(&t.portForward, "port-forward", false, "overlays: reach every executor pod by port-forward through the API server, never by its pod IP (default: the pod IP when this machine has a route of its own to it and it answers /system_stats, as on a host node; also $REGEN_PORT_FORWARD=1)")
	fs.StringVar(&t.kubeBin, "kube-bin", "", "host: directory of the control-plane and kubelet binaries (default $REGEN_KUBE_BIN; hack/controlplane.sh build, then hack/controlplane.sh kubelet)")
	fs.Func("image-archive", "host, kind: an OCI image archive the node gets besides the executor image (repeatable), for an overlay that runs another image: --env comfyui-cpu --image-archive \"$(hack/comfyui-image.sh archive)\"", func(v string) error {
		t.imageArchives = append(t.imageArchives, v)
		return nil
	})
	fs.StringVar(&t.executorBin, "executor-binary", "", "host: the static regen-executor packed into the pod image (default: next to this regen binary); --models is packed with it")
}

// parsed records which flags were given; call it after fs.Parse.
func (t *targetFlags) parsed(fs *flag.FlagSet) {
	fs.Visit(func(fl *flag.Flag) { t.envSet = t.envSet || fl.Name == "env" })
}

// options turns the flags into the factory's options. workDir is the
// command's output directory; notify (nil: none) gets the lines a user sees
// whatever the log level.
func (t *targetFlags) options(cmd, workDir string, logger *slog.Logger, notify io.Writer) (factory.Options, error) {
	url := t.url()
	if url != "" && t.envSet {
		return factory.Options{}, &usageError{msg: cmd + ": --url and --env are exclusive", hint: "regen " + cmd + " --url http://127.0.0.1:8188"}
	}
	if t.replicas < 1 {
		return factory.Options{}, &usageError{msg: cmd + ": --replicas must be >= 1"}
	}
	if (t.backend != "cpu" || t.tf32 || t.nondeterministic) && (url != "" || (t.env != "" && t.env != factory.Local)) {
		return factory.Options{}, &usageError{msg: cmd + ": --backend, --tf32 and --nondeterministic choose the local executor's backend; a --url or --env target has its own",
			hint: "regen-executor --backend cuda-emulated --nondeterministic, then regen " + cmd + " --url http://127.0.0.1:8188"}
	}
	be, err := t.backendFunc(cmd)
	if err != nil {
		return factory.Options{}, err
	}
	o := factory.Options{
		Backend: be,
		Env:     t.env, KustomizeDir: t.kustomize, WorkDir: workDir, Models: t.models, Replicas: t.replicas,
		Kubeconfig: t.kubeconfig, Cluster: t.cluster, Keep: t.keep, PortForward: t.portForward, KubeBin: t.kubeBin, ExecutorBinary: t.executorBin,
		ImageArchives: t.imageArchives,
		Logger:        logger,
	}
	for _, u := range t.urls {
		if !strings.Contains(u, "://") {
			return factory.Options{}, &usageError{msg: fmt.Sprintf("%s: --url %q: want http(s)://host[:port]", cmd, u), hint: "regen " + cmd + " --url http://127.0.0.1:8188"}
		}
	}
	if url != "" {
		o.Env = url
	}
	if notify != nil {
		o.Notify = func(msg string) { fmt.Fprintln(notify, msg) }
	}
	return o, nil
}

// backendFunc is the local executor's backend the flags choose (nil: the
// CPU default).
func (t *targetFlags) backendFunc(cmd string) (executor.BackendFunc, error) {
	switch {
	case t.backend == "cpu" && (t.tf32 || t.nondeterministic):
		return nil, &usageError{msg: cmd + ": --tf32 and --nondeterministic need --backend cuda-emulated", hint: "regen " + cmd + " --backend cuda-emulated --nondeterministic"}
	case t.backend == "cpu" || t.backend == "":
		return nil, nil
	case t.backend != cudaemu.Name:
		return nil, &usageError{msg: fmt.Sprintf("%s: --backend %q, want cpu or %s", cmd, t.backend, cudaemu.Name), hint: "regen " + cmd + " --backend cuda-emulated"}
	}
	opts := cudaemu.Options{Nondeterministic: t.nondeterministic}
	if t.tf32 {
		opts.Precision = "tf32"
	}
	return func() (backend.Backend, error) { return cudaemu.New(opts) }, nil
}

// url is the first --url ("" when none was given).
func (t *targetFlags) url() string {
	if len(t.urls) == 0 {
		return ""
	}
	return t.urls[0]
}
