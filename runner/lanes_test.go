package runner_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/calibrate"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target/local"
)

const (
	strictSuite = "testdata/imgsuite/strict.yaml"
	crossSuite  = "testdata/imgsuite/cross.yaml"
)

func TestStrictLaneFailsPassApprox(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	// A one-level change of a small patch: within every threshold.
	tests := []struct {
		name, suite string
		strict      bool
		want        report.Verdict
		reason      string
	}{
		{name: "tolerant lane", suite: imgSuite, want: report.PassApprox},
		{name: "strict lane", suite: strictSuite, want: report.Fail, reason: "suite's lanes make class cpu strict"},
		{name: "--strict", suite: imgSuite, strict: true, want: report.Fail, reason: "exact (strict)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, _, err := doRun(t, runConfig{suite: tc.suite, goldenDir: dir, strict: tc.strict, registry: registryWith("ImageInvert", 0.004)})
			if err != nil {
				t.Fatal(err)
			}
			c := caseOf(t, rec, "invert/seed=1")
			if c.Verdict != tc.want || !strings.Contains(c.Reason, tc.reason) {
				t.Errorf("invert: %s (%s) %q, want %s with %q", c.Verdict, c.Tier, c.Reason, tc.want, tc.reason)
			}
			if rec.Strict != (tc.want == report.Fail) {
				t.Errorf("record strict = %v", rec.Strict)
			}
			if regs, _ := runner.Outcome(rec); (len(regs) > 0) != (tc.want == report.Fail) {
				t.Errorf("regressions %v", regs)
			}
		})
	}
}

// crossTarget is a local target whose CPU backend reports class cuda-fake
// (a target of another class, bit-exact with the cpu goldens), with
// registry perturbations when given.
func crossTarget(t testing.TB, runDir string, delta float32) *local.Target {
	t.Helper()
	be := func() (backend.Backend, error) { return classed{cpu.New()}, nil }
	opts := local.Options{Models: emptyModels(t), WorkDir: runDir, Backend: be, Logger: testutil.Logger()}
	if delta != 0 {
		opts.Registry = registryWith("ImageScale", delta)
	}
	return local.New(opts)
}

func crossRun(t testing.TB, dir string, delta float32) *report.Run {
	t.Helper()
	s, err := suite.Load(crossSuite)
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "run")
	rec, err := runner.Run(context.Background(), runner.Options{Suite: s, Target: crossTarget(t, runDir, delta), GoldenDir: dir, RunDir: runDir,
		Class: "cpu", CrossClass: true, Retries: 3, Logger: testutil.Logger()})
	if err != nil {
		t.Fatalf("cross-class run: %v", err)
	}
	return rec
}

func TestCrossClassJudgingNeedsACalibration(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	// The cpu goldens of the cross suite too.
	grec, gdir, err := doRun(t, runConfig{suite: crossSuite, goldenDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	approveAll(t, grec, gdir, dir)
	rec := crossRun(t, dir, 0)
	if rec.Environment != "cpu" || rec.TargetClass != "cuda-fake" {
		t.Errorf("record: environment %q, target class %q; want cpu judging cuda-fake", rec.Environment, rec.TargetClass)
	}
	for _, id := range []string{"scaled/seed=1"} {
		c := caseOf(t, rec, id)
		if c.Verdict != report.Error || !strings.Contains(c.Outputs[0].Reason, "regen golden calibrate --against cpu") {
			t.Errorf("%s without a calibration: %s %q, want an error that says to calibrate", id, c.Verdict, c.Outputs[0].Reason)
		}
	}
	if _, infra := runner.Outcome(rec); len(infra) == 0 {
		t.Error("judging across classes without a calibration must be an infrastructure error (exit 2)")
	}

	// Calibrate the pair, then judge: the same pixels pass, a perturbed
	// node fails. Even the image suite's tiny images are calibrated (the
	// local window shrinks with the image: a 0.5 % patch of a 48×32
	// image, 9 px, fills more than half of its 4-px window); with the
	// local tier made blind (blindSuite) that patch is missed at the
	// floors, which is reported, and nothing is written for it.
	for _, tc := range []struct {
		suite  string
		missed bool
	}{{imgSuite, false}, {blindSuite, true}, {crossSuite, false}} {
		rep := calibratePair(t, tc.suite, dir)
		missed := 0
		for _, c := range rep.Cases {
			if c.Error != "" {
				t.Fatalf("calibrate %s: %s", c.ID, c.Error)
			}
			for _, o := range c.Outputs {
				missed += len(o.Missed)
				if len(o.Swallowed)+len(o.Missed) > 0 {
					if o.Written {
						t.Errorf("%s %s: written although a control passed (%v %v)", c.ID, o.File, o.Swallowed, o.Missed)
					}
					continue
				}
				if !o.Written || o.Calibration.Target != "cuda-fake" || o.Calibration.Runs != 2 || len(o.Calibration.Controls) != 6 {
					t.Errorf("%s %s: written %v, calibration %+v", c.ID, o.File, o.Written, o.Calibration)
				}
			}
		}
		if (missed > 0) != tc.missed {
			t.Errorf("%s: %d controls missed at the floors, want some: %v", tc.suite, missed, tc.missed)
		}
	}
	recs, err := golden.Store{Root: dir, Class: "cpu"}.LoadRecord("scaled", "default.seed-1.3-0")
	if err != nil || recs.Calibrations["cuda-fake"] == nil {
		t.Fatalf("the cpu record of scaled has no cuda-fake calibration (%v)", err)
	}
	rec = crossRun(t, dir, 0)
	if c := caseOf(t, rec, "scaled/seed=1"); c.Verdict != report.Pass {
		t.Errorf("calibrated cross-class run: %s %q, want pass", c.Verdict, c.Reason)
	}
	rec = crossRun(t, dir, -0.1) // darker: the gradient is white in that corner
	if c := caseOf(t, rec, "scaled/seed=1"); c.Verdict != report.Fail {
		t.Errorf("perturbed scale judged across classes: %s %q, want fail", c.Verdict, c.Reason)
	}
}

// calibratePair calibrates the cuda-fake target against dir's cpu goldens.
func calibratePair(t testing.TB, suitePath, dir string) *calibrate.Report {
	t.Helper()
	s, err := suite.Load(suitePath)
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "cal")
	sess, err := runner.Start(context.Background(), runner.Options{Suite: s, Target: crossTarget(t, runDir, 0), GoldenDir: dir, RunDir: runDir,
		Class: "cpu", CrossClass: true, Logger: testutil.Logger()})
	if sess != nil {
		defer sess.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := calibrate.Run(context.Background(), calibrate.Options{Session: sess, Cases: sess.Plan(), Runs: 2, Logger: testutil.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
