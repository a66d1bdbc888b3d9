// Package clustersuite holds what the suites that run the fixture suite
// inside real pods (suites/hostnode, suites/kind) share: the cluster target
// they build, and a wrapper that checks the live pods once it has started.
package clustersuite

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/regen-dev/regen/runner/kube"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/cluster"
)

// Observed wraps a cluster target: once it has started (pods rolled out,
// port-forwards up) it runs Check while the pods are live.
type Observed struct {
	*cluster.Target
	Check func(context.Context, *cluster.Target)
}

// Start starts the target and, when it is up, runs Check.
func (o Observed) Start(ctx context.Context) ([]target.Endpoint, error) {
	eps, err := o.Target.Start(ctx)
	if err == nil {
		o.Check(ctx, o.Target)
	}
	return eps, err
}

// Logger writes debug-level logs to the spec's GinkgoWriter.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(ginkgo.GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// NewTarget completes opts (the mode and its own fields: Mode, KubeBin or
// KindName) with what every pod suite sets the same way: the dev
// environment, the executor built in exeDir, the fixture models under repo,
// the kustomize root, a run id and diagnostics folder from runDir, the
// rollout timeout, a logger, and notices appended to notes (and echoed).
func NewTarget(opts cluster.Options, repo, exeDir, runDir, kustomize string, rollout time.Duration, notes *[]string) *cluster.Target {
	var mu sync.Mutex
	opts.Env = "dev"
	opts.ExecutorBinary = filepath.Join(exeDir, "regen-executor")
	opts.Models = filepath.Join(repo, "fixtures", "models")
	opts.KustomizeDir = kustomize
	opts.RunID = filepath.Base(runDir)
	opts.Timeouts = kube.Timeouts{Rollout: rollout}
	opts.DiagnosticsDir = filepath.Join(runDir, "cluster")
	opts.Log = Logger()
	opts.Notify = func(s string) {
		mu.Lock()
		defer mu.Unlock()
		*notes = append(*notes, s)
		ginkgo.GinkgoWriter.Println("notify:", s)
	}
	return cluster.New(opts)
}
