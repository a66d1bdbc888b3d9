package factory

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/regen-dev/regen/executor"
	"github.com/regen-dev/regen/runner/deploy"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/cluster"
	"github.com/regen-dev/regen/runner/target/local"
)

// Local is the environment of the in-process executor.
const Local = "local"

// ErrUnknownEnv is wrapped by New's error for a name that is no environment.
var ErrUnknownEnv = errors.New("unknown environment")

// Kind is the kind of target an environment names.
type Kind string

// The kinds of target.
const (
	KindLocal   Kind = "local"
	KindURL     Kind = "url"
	KindCluster Kind = "cluster"
)

// Options are everything a target may need, as the CLI's flags give them;
// each kind reads its own. Zero values are the defaults.
type Options struct {
	// Env is "local" (or ""), an http(s):// URL, or an overlay name.
	Env string
	// KustomizeDir is the kustomize root whose overlays/ are the cluster
	// environments (default runner/deploy.DefaultDir).
	KustomizeDir string
	// WorkDir is the run's directory: the local replicas' folders, the
	// cluster's diagnostics (WorkDir/cluster) and, by its base name, the
	// cluster run id.
	WorkDir string
	// Models is the models directory: served by the local executor, packed
	// into a host node's executor image.
	Models string
	// Replicas is the number of local executor servers (default 1).
	Replicas int
	// Backend builds each local replica's compute backend (default: the
	// CPU backend); the caller chooses it (regen --backend).
	Backend executor.BackendFunc

	// Cluster environments (see runner/target/cluster.Options).
	Kubeconfig string
	// Cluster is how a cluster is reached: auto (""), kubeconfig, kind or host.
	Cluster        string
	Keep           bool
	PortForward    bool // reach pods by port-forward, never by pod IP
	KubeBin        string
	ExecutorBinary string
	// ImageArchives are OCI image archives a host node or kind cluster
	// the run brings up gets besides the executor image (--image-archive).
	ImageArchives []string

	Logger *slog.Logger
	// Notify receives the few lines a user should see whatever the log level.
	Notify func(string)
}

// New returns the target of o.Env, constructed but not started.
func New(o Options) (target.Target, error) {
	kind, err := Resolve(o.Env, o.kustomizeDir())
	if err != nil {
		return nil, err
	}
	// A typo in --cluster is an error whatever the environment.
	co, err := clusterOptions(o)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindURL:
		return target.NewURL(o.Env)
	case KindCluster:
		return cluster.New(co), nil
	default:
		return local.New(localOptions(o)), nil
	}
}

// Resolve says which kind of target env names. A cluster environment must
// be an overlay under kustomizeDir/overlays; the error for an unknown name
// wraps ErrUnknownEnv and lists the environments there are.
func Resolve(env, kustomizeDir string) (Kind, error) {
	switch {
	case env == "" || env == Local:
		return KindLocal, nil
	case strings.Contains(env, "://"):
		if !strings.HasPrefix(env, "http://") && !strings.HasPrefix(env, "https://") {
			return "", fmt.Errorf("%w %q: a URL environment is http:// or https://", ErrUnknownEnv, env)
		}
		return KindURL, nil
	}
	overlays, err := deploy.Overlays(kustomizeDir)
	if err != nil {
		return "", fmt.Errorf("%w %q: no overlays to look it up in (%w); run from the repository root", ErrUnknownEnv, env, err)
	}
	for _, ov := range overlays {
		if ov == env {
			return KindCluster, nil
		}
	}
	return "", fmt.Errorf("%w %q: want %s", ErrUnknownEnv, env, available(overlays, kustomizeDir))
}

// Environments lists the environment names there are: local, then every
// overlay under kustomizeDir/overlays (none when it cannot be read).
func Environments(kustomizeDir string) []string {
	overlays, _ := deploy.Overlays(kustomizeDir)
	return append([]string{Local}, overlays...)
}

// available is the list an unknown-environment error gives.
func available(overlays []string, kustomizeDir string) string {
	s := Local
	if len(overlays) > 0 {
		s += ", " + strings.Join(overlays, ", ") + " (the overlays under " + filepath.Join(kustomizeDir, "overlays") + ")"
	}
	return s + ", or an http(s):// URL"
}

func (o Options) kustomizeDir() string {
	if o.KustomizeDir == "" {
		return deploy.DefaultDir
	}
	return o.KustomizeDir
}

func localOptions(o Options) local.Options {
	return local.Options{Models: o.Models, WorkDir: o.WorkDir, Replicas: o.Replicas, Backend: o.Backend, Logger: o.Logger}
}

func clusterOptions(o Options) (cluster.Options, error) {
	mode, err := cluster.ParseMode(o.Cluster)
	if err != nil {
		return cluster.Options{}, fmt.Errorf("parse --cluster: %w", err)
	}
	co := cluster.Options{
		Env: o.Env, KustomizeDir: o.kustomizeDir(), Kubeconfig: o.Kubeconfig, Keep: o.Keep, Mode: mode, PortForward: o.PortForward,
		KubeBin: o.KubeBin, ExecutorBinary: o.ExecutorBinary, Models: o.Models, ImageArchives: o.ImageArchives,
		Log: o.Logger, Notify: o.Notify,
	}
	if o.WorkDir != "" {
		co.RunID = filepath.Base(o.WorkDir)
		co.DiagnosticsDir = filepath.Join(o.WorkDir, "cluster")
	}
	return co, nil
}
