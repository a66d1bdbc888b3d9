package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// KindVersion is the kind release the dev flow pins (e2e-framework's own
// fallback, v0.26.0, is not served by the module proxy).
const KindVersion = "v0.33.0"

// Mode is how a cluster environment is reached.
type Mode string

const (
	// ModeKubeconfig uses the kubeconfig's current context as it is.
	ModeKubeconfig Mode = "kubeconfig"
	// ModeKind creates (or reuses) a kind cluster (auto: dev only; asked
	// for: any overlay its node can run, see checkNodeImages).
	ModeKind Mode = "kind"
	// ModeHost brings up a single-node cluster on this machine for the run
	// (auto: dev only; asked for: any overlay the node can run, e.g.
	// comfyui-cpu with --image-archive): the local control plane plus a real kubelet on the host's
	// containerd and runc (runner/kube.HostOptions), torn down after.
	ModeHost Mode = "host"
	// ModeAuto picks the first that works: kubeconfig, kind, host.
	ModeAuto Mode = "auto"
)

// ParseMode parses --cluster.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", ModeAuto:
		return ModeAuto, nil
	case ModeKubeconfig, ModeKind, ModeHost:
		return m, nil
	}
	return "", fmt.Errorf("unknown cluster mode %q (want auto, kubeconfig, kind or host)", s)
}

// ErrNoCluster is wrapped by Preflight's errors.
var ErrNoCluster = errors.New("no cluster to deploy to")

// Probe is what Preflight looks at; tests replace it.
type Probe struct {
	Getenv   func(string) string
	Stat     func(string) (os.FileInfo, error)
	LookPath func(string) (string, error)
	// DockerInfo runs `docker info` (bounded by ctx).
	DockerInfo func(ctx context.Context) error
	// Host checks whether a host node can run here (runner/kube.CheckHost);
	// nil means it cannot.
	Host func() error
	Home string
}

// SystemProbe looks at the real machine.
func SystemProbe() Probe {
	home, _ := os.UserHomeDir()
	return Probe{
		Getenv: os.Getenv, Stat: os.Stat, LookPath: exec.LookPath, Home: home,
		DockerInfo: func(ctx context.Context) error {
			out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
			if err != nil {
				return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
			}
			return nil
		},
	}
}

// Plan is Preflight's answer.
type Plan struct {
	Mode       Mode
	Kubeconfig string // ModeKubeconfig: the file (empty: client-go's default rules found it)
	Kind       string // ModeKind: the kind binary ("" when e2e-framework will go install it)
	KindWhy    string // ModeKind: why kind, for the run's output
	Why        string // how auto mode came to this plan, for the log
}

// Preflight decides how env can be deployed, in seconds and without touching
// any cluster. Auto (want "" or ModeAuto): an explicit kubeconfig, else
// $KUBECONFIG, else ~/.kube/config; failing those, for dev only, kind on
// Docker, else a host node on this machine. A wanted mode is checked alone.
// When nothing fits it says what is missing for each and what to run instead.
func Preflight(ctx context.Context, p Probe, env, kubeconfig string, want Mode) (Plan, error) {
	switch want {
	case ModeKind, ModeHost:
		// Any overlay the node can run: dev, or one whose images the run
		// imports (ImageArchives) and that asks for no GPU, e.g.
		// comfyui-cpu; Target.Start checks that after rendering.
		if want == ModeHost {
			if err := hostCheck(p); err != nil {
				return Plan{}, fmt.Errorf("--cluster host: %w: %w", ErrNoCluster, err)
			}
			return Plan{Mode: ModeHost}, nil
		}
		kind, missing := kindCheck(ctx, p)
		if len(missing) > 0 {
			return Plan{}, fmt.Errorf("--cluster kind: missing %s: %w (install Docker and kind %s: go install sigs.k8s.io/kind@%s)", strings.Join(missing, ", "), ErrNoCluster, KindVersion, KindVersion)
		}
		return Plan{Mode: ModeKind, Kind: kind, KindWhy: "asked for; Docker answers" + kindFrom(kind)}, nil
	}
	if kubeconfig != "" {
		if _, err := p.Stat(kubeconfig); err != nil {
			return Plan{}, fmt.Errorf("--env %s: kubeconfig %s: %w: %w", env, kubeconfig, ErrNoCluster, err)
		}
		return Plan{Mode: ModeKubeconfig, Kubeconfig: kubeconfig}, nil
	}
	if kc := p.Getenv("KUBECONFIG"); kc != "" {
		for _, f := range filepath.SplitList(kc) {
			if _, err := p.Stat(f); err == nil {
				return Plan{Mode: ModeKubeconfig}, nil
			}
		}
	}
	if p.Home != "" {
		if _, err := p.Stat(filepath.Join(p.Home, ".kube", "config")); err == nil {
			return Plan{Mode: ModeKubeconfig}, nil
		}
	}
	if want == ModeKubeconfig {
		return Plan{}, fmt.Errorf("--cluster kubeconfig: no kubeconfig (--kubeconfig not given, KUBECONFIG unset, ~/.kube/config missing): %w", ErrNoCluster)
	}
	const instead = "Run `make e2e` (ENV=local: the in-process executor), or point KUBECONFIG at a cluster " +
		"(kind, or a GPU cluster's kubeconfig) and rerun `make e2e ENV=" // env appended below
	if env != "dev" {
		return Plan{}, fmt.Errorf("--env %s needs a cluster and there is no kubeconfig (KUBECONFIG unset, ~/.kube/config missing): %w. %s%s`)", env, ErrNoCluster, instead, env)
	}
	kind, missing := kindCheck(ctx, p)
	if len(missing) == 0 {
		return Plan{Mode: ModeKind, Kind: kind, KindWhy: "chosen by --cluster auto: no kubeconfig (KUBECONFIG unset, ~/.kube/config missing), and Docker answers" + kindFrom(kind)}, nil
	}
	hostErr := hostCheck(p)
	if hostErr == nil {
		return Plan{Mode: ModeHost, Why: "no kubeconfig, and no kind (missing " + strings.Join(missing, ", ") + ")"}, nil
	}
	return Plan{}, fmt.Errorf("--env dev needs a kind cluster, a host node or a kubeconfig: kind: missing %s; host node: %v; and no kubeconfig (KUBECONFIG unset, ~/.kube/config missing): %w. %s%s`), or install Docker and kind %s (go install sigs.k8s.io/kind@%s)",
		strings.Join(missing, ", "), hostErr, ErrNoCluster, instead, env, KindVersion, KindVersion)
}

func hostCheck(p Probe) error {
	if p.Host == nil {
		return errors.New("not available in this build")
	}
	return p.Host()
}

// kindCheck returns the kind binary ("" when e2e-framework will go install
// it) and what kind on Docker lacks here.
func kindCheck(ctx context.Context, p Probe) (string, []string) {
	var missing []string
	if _, err := p.LookPath("docker"); err != nil {
		missing = append(missing, "docker (not on PATH)")
	} else {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := p.DockerInfo(dctx)
		cancel()
		if err != nil {
			missing = append(missing, "a running Docker daemon (docker info: "+err.Error()+")")
		}
	}
	if k := p.Getenv(EnvKind); k != "" {
		if _, err := p.Stat(k); err == nil {
			return k, missing
		}
		missing = append(missing, EnvKind+"="+k+" (no such file)")
		return "", missing
	}
	kind, err := p.LookPath("kind")
	if err != nil {
		if _, gerr := p.LookPath("go"); gerr != nil {
			missing = append(missing, "kind "+KindVersion+" (not on PATH, and no go to install it)")
		}
		kind = ""
	}
	return kind, missing
}

// kindFrom says where the kind binary comes from, for Plan.KindWhy.
func kindFrom(kind string) string {
	if kind == "" {
		return "; kind " + KindVersion + " not on PATH: e2e-framework go-installs it"
	}
	return "; kind: " + kind
}
