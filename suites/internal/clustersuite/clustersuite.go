// Package clustersuite holds what the suites that run the fixture suite
// inside real pods (suites/hostnode, suites/kind) share: the cluster target
// they build, and a wrapper that checks the live pods once it has started.
package clustersuite

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/kube"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
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
// environment (unless opts.Env names another), the executor built in exeDir, the fixture models under repo,
// the kustomize root, a run id and diagnostics folder from runDir, the
// rollout timeout, a logger, and notices appended to notes (and echoed).
func NewTarget(opts cluster.Options, repo, exeDir, runDir, kustomize string, rollout time.Duration, notes *[]string) *cluster.Target {
	var mu sync.Mutex
	if opts.Env == "" {
		opts.Env = "dev"
	}
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

// CrashingOverlays copies repo's kustomize root into a temp dir and makes
// the dev overlay start the executor with a flag it does not know: it exits
// at once, and the kubelet restarts it and backs off. It returns the copy.
func CrashingOverlays(repo string) string {
	kz := ginkgo.GinkgoT().TempDir()
	gomega.Expect(os.CopyFS(kz, os.DirFS(filepath.Join(repo, "kustomize")))).To(gomega.Succeed())
	dev := filepath.Join(kz, "overlays", "dev", "kustomization.yaml")
	b, err := os.ReadFile(dev)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(os.WriteFile(dev, append(b, []byte(`  - target:
      kind: Deployment
      name: regen-executor
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --no-such-flag
`)...), 0o644)).To(gomega.Succeed())
	return kz
}

// Diagnostics concatenates every file the collectors wrote under
// runDir/cluster, but those under a folder named skip ("" skips none).
func Diagnostics(runDir, skip string) string {
	var diag strings.Builder
	gomega.Expect(filepath.WalkDir(filepath.Join(runDir, "cluster"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (skip == "" || !strings.Contains(p, skip)) {
			b, _ := os.ReadFile(p)
			diag.Write(b)
		}
		return nil
	})).To(gomega.Succeed())
	return diag.String()
}

// RunFixtures replays the committed fixture suite (fixtures/suite.yaml of
// repo, the cases filter matches, all when nil) on tgt through runner.Run,
// judged against golden/cpu, and expects the run itself not to fail. With
// a label, the run's wall time (bring-up to teardown) becomes a report
// entry under it.
func RunFixtures(ctx context.Context, repo string, tgt target.Target, runDir string, filter *regexp.Regexp, label string) *report.Run {
	ginkgo.GinkgoHelper()
	path := filepath.Join(repo, "fixtures", "suite.yaml")
	st, err := suite.Load(path)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	start := time.Now()
	rec, err := runner.Run(ctx, runner.Options{
		Suite: st, SuitePath: path, Class: "cpu", Target: tgt, Filter: filter,
		GoldenDir: filepath.Join(repo, "golden"), RunDir: runDir, Logger: Logger(),
	})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	if label != "" {
		ginkgo.AddReportEntry(label, time.Since(start).Round(time.Millisecond).String())
	}
	return rec
}
