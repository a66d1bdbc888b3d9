package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/local"
)

const imgSuite = "testdata/imgsuite/suite.yaml"

// blindSuite is the tiny solid colour of imgSuite with the local tier
// blind: a case whose 0.5 % patch is missed at the floors.
const blindSuite = "testdata/imgsuite/blind.yaml"

// emptyModels returns a models folder with no models: the image-only
// suite needs none.
func emptyModels(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"checkpoints", "loras"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type runConfig struct {
	suite     string
	goldenDir string
	registry  func() (*node.Registry, error)
	models    string
	target    target.Target
	strict    bool
	onCase    func(report.Case)
	conc      int
	replicas  int
	noRetry   bool
}

// doRun runs a suite on a fresh local target (or cfg.target) and returns
// the record and the run dir.
func doRun(t testing.TB, cfg runConfig) (*report.Run, string, error) {
	t.Helper()
	if cfg.suite == "" {
		cfg.suite = imgSuite
	}
	s, err := suite.Load(cfg.suite)
	if err != nil {
		t.Fatalf("load suite: %v", err)
	}
	runDir := filepath.Join(t.TempDir(), "run")
	tgt := cfg.target
	if tgt == nil {
		if cfg.models == "" {
			cfg.models = emptyModels(t)
		}
		tgt = local.New(local.Options{Models: cfg.models, WorkDir: runDir, Registry: cfg.registry, Replicas: cfg.replicas, Logger: testutil.Logger()})
	}
	rec, err := runner.Run(context.Background(), runner.Options{
		Suite: s, SuitePath: cfg.suite, Target: tgt, GoldenDir: cfg.goldenDir, RunDir: runDir,
		Strict: cfg.strict, Logger: testutil.Logger(), OnCase: cfg.onCase, Concurrency: cfg.conc, Retries: retries(cfg),
	})
	return rec, runDir, err
}

// retries is 3 unless the test needs none: SaveImageWebsocket frames are
// lost now and then because regen-executor registers a websocket client
// only after the handshake and the client submits right after it (see the
// report); a retry replays such a case.
func retries(cfg runConfig) int {
	if cfg.noRetry {
		return 0
	}
	return 3
}

// approveAll promotes every candidate of a run into goldenDir.
func approveAll(t testing.TB, rec *report.Run, runDir, goldenDir string) []golden.Action {
	t.Helper()
	acts, err := golden.Store{Root: goldenDir, Class: rec.Environment}.Approve(runner.Candidates(rec, runDir), nil)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	return acts
}

func verdicts(rec *report.Run) map[string]report.Verdict {
	m := map[string]report.Verdict{}
	for _, c := range rec.Cases {
		m[c.ID] = c.Verdict
	}
	return m
}

// goldens builds a golden dir for the image suite: run, approve all.
func goldens(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "golden")
	rec, runDir, err := doRun(t, runConfig{goldenDir: dir})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	approveAll(t, rec, runDir, dir)
	return dir
}

func TestRunNewApprovePass(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "golden")
	rec, runDir, err := doRun(t, runConfig{goldenDir: dir})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	want := map[string]report.Verdict{"solid/seed=1": report.New, "invert/seed=1": report.New, "ws/seed=1": report.New, "skipped/seed=1": report.Skip}
	for id, v := range want {
		if got := verdicts(rec)[id]; got != v {
			t.Errorf("first run %s = %s, want %s (%s)", id, got, v, errOf(rec, id))
		}
	}
	if _, infra := runner.Outcome(rec); len(infra) != 3 {
		t.Errorf("missing goldens should be infra problems (exit 2): %v", infra)
	}
	// invert has two outputs (SaveImage + PreviewImage), ws one streamed.
	for _, c := range rec.Cases {
		n := map[string]int{"solid/seed=1": 1, "invert/seed=1": 2, "ws/seed=1": 1, "skipped/seed=1": 0}[c.ID]
		if len(c.Outputs) != n {
			t.Errorf("%s: %d outputs, want %d", c.ID, len(c.Outputs), n)
		}
		for _, o := range c.Outputs {
			if _, err := os.Stat(filepath.Join(runDir, o.Candidate)); err != nil {
				t.Errorf("%s: candidate %s: %v", c.ID, o.Candidate, err)
			}
		}
	}
	for _, f := range []string{"results.json", "junit.xml", "summary.txt", "report.html"} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Errorf("run dir: %v", err)
		}
	}
	acts := approveAll(t, rec, runDir, dir)
	if len(acts) != 4 {
		t.Fatalf("approve actions = %v", acts)
	}
	for _, a := range acts {
		if a.Op != "created" {
			t.Errorf("approve %s: %s", a.Candidate.Case, a.Op)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cpu", "ws", "default.seed-1.ws_node-0.png")); err != nil {
		t.Errorf("ws golden: %v", err)
	}
	// Deterministic: a second run passes bit-exactly, strict too.
	rec2, runDir2, err := doRun(t, runConfig{goldenDir: dir, strict: true})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	regs, infra := runner.Outcome(rec2)
	if len(regs)+len(infra) > 0 {
		t.Fatalf("second run: regressions %v, infra %v", regs, infra)
	}
	for id, v := range verdicts(rec2) {
		if v != report.Pass && v != report.Skip {
			t.Errorf("second run %s = %s", id, v)
		}
	}
	// Approving a passing run rewrites nothing.
	before := snapshot(t, dir)
	for _, a := range approveAll(t, rec2, runDir2, dir) {
		if a.Op != "kept" {
			t.Errorf("approve of a pass: %s %s", a.Candidate.Case, a.Op)
		}
	}
	if after := snapshot(t, dir); after != before {
		t.Error("approve of a passing run changed the golden dir")
	}
}

// snapshot renders a directory tree's names, sizes and contents.
func snapshot(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b.WriteString(p + "\n" + string(data) + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func errOf(rec *report.Run, id string) string {
	for _, c := range rec.Cases {
		if c.ID == id {
			return c.Error + c.Reason
		}
	}
	return ""
}
