package runner_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/calibrate"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target/local"
)

// jittery changes its node's images on every other call: a stand-in for
// a nondeterministic target whose replays differ from each other. It
// darkens the perturbed patch by delta, or with whole every pixel.
type jittery struct {
	node.Node
	calls *atomic.Int32
	delta float32
	whole bool
}

func (j jittery) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	if j.calls.Add(1)%2 == 1 {
		return j.Node.Execute(ctx, env, in)
	}
	if !j.whole {
		return perturbed{Node: j.Node, delta: j.delta}.Execute(ctx, env, in)
	}
	res, err := j.Node.Execute(ctx, env, in)
	if err != nil {
		return res, err
	}
	for i, o := range res.Outputs {
		if im, ok := o.(*node.Image); ok {
			cp := *im
			cp.Pix = slices.Clone(im.Pix)
			for k := range cp.Pix {
				cp.Pix[k] = max(0, cp.Pix[k]+j.delta)
			}
			res.Outputs[i] = &cp
		}
	}
	return res, nil
}

func jitteryRegistry(delta float32, whole bool) func() (*node.Registry, error) {
	var calls atomic.Int32
	return func() (*node.Registry, error) {
		all := nodes.Builtin()
		for i, n := range all {
			if n.Spec().Name == "ImageScale" {
				all[i] = jittery{Node: n, calls: &calls, delta: delta, whole: whole}
			}
		}
		return node.NewRegistry(all...)
	}
}

func TestCalibrationSetsThresholdsAtFactorTimesTheSpread(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "golden")
	rec, runDir, err := doRun(t, runConfig{suite: crossSuite, goldenDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	approveAll(t, rec, runDir, dir)
	s, err := suite.Load(crossSuite)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		delta   float32
		whole   bool
		swallow bool
	}{
		// A 6×6 patch darkened by 26 levels on every other replay: 36 px
		// of a 16×16 window (0.14), over the 0.1 floor; every control
		// still fails.
		{name: "jitter over the local floor", delta: -0.1},
		// The whole image darkened by 5 levels: a colour spread that
		// swallows the colour controls (hue 3°, red gain 2 %).
		{name: "jitter that swallows controls", delta: -0.02, whole: true, swallow: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calDir := filepath.Join(t.TempDir(), "cal")
			tgt := local.New(local.Options{Models: emptyModels(t), WorkDir: calDir, Registry: jitteryRegistry(tc.delta, tc.whole), Logger: testutil.Logger()})
			sess, err := runner.Start(context.Background(), runner.Options{Suite: s, Target: tgt, GoldenDir: dir, RunDir: calDir, Logger: testutil.Logger()})
			if sess != nil {
				defer sess.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			rep, err := calibrate.Run(context.Background(), calibrate.Options{Session: sess, Cases: sess.Plan(), Runs: 4, DryRun: true, Logger: testutil.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Cases) != 1 || rep.Cases[0].Error != "" || len(rep.Cases[0].Outputs) != 1 {
				t.Fatalf("report %+v", rep.Cases)
			}
			o := rep.Cases[0].Outputs[0]
			cal := o.Calibration
			key := "local.window_ratio"
			if tc.whole {
				key = "colour.mean_delta_e"
			}
			spread := cal.Spread[key]
			got, _ := cal.Thresholds.Threshold(key)
			floor, _ := cal.Floors.Threshold(key)
			if spread <= floor/2 || got != calibrate.Factor*spread {
				t.Errorf("%s: spread %v, threshold %v; want the spread over half the floor %v and the threshold %v× it", key, spread, got, floor, calibrate.Factor)
			}
			for _, k := range compare.GatedMetrics() {
				v, _ := cal.Thresholds.Threshold(k)
				f, _ := cal.Floors.Threshold(k)
				if v < f {
					t.Errorf("%s: threshold %v below its floor %v", k, v, f)
				}
			}
			if o.Written {
				t.Error("a dry run wrote the record")
			}
			if len(o.Missed) > 0 {
				t.Errorf("controls missed at the floors on a 160×120 image: %v", o.Missed)
			}
			if (len(o.Swallowed) > 0) != tc.swallow {
				t.Errorf("spread %v: swallowed %v, want some: %v (%+v)", spread, o.Swallowed, tc.swallow, cal.Controls)
			}
		})
	}
}
