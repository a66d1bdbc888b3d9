package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes"
	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/atomicfile"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/local"
)

// perturbed wraps a node class and brightens a small patch of every IMAGE
// it outputs: a stand-in for "someone changed this node's maths".
type perturbed struct {
	node.Node
	delta float32
}

func (p perturbed) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	res, err := p.Node.Execute(ctx, env, in)
	if err != nil {
		return res, err
	}
	for i, o := range res.Outputs {
		im, ok := o.(*node.Image)
		if !ok {
			continue
		}
		cp := *im
		cp.Pix = slices.Clone(im.Pix)
		for b := 0; b < cp.N; b++ {
			for y := 2; y < min(8, cp.H); y++ {
				for x := 2; x < min(8, cp.W); x++ {
					at := cp.At(b, y, x)
					for c := 0; c < cp.C; c++ {
						cp.Pix[at+c] = min(1, cp.Pix[at+c]+p.delta)
					}
				}
			}
		}
		res.Outputs[i] = &cp
	}
	return res, nil
}

// registryWith returns a registry builder where class is perturbed.
func registryWith(class string, delta float32) func() (*node.Registry, error) {
	return func() (*node.Registry, error) {
		all := nodes.Builtin()
		for i, n := range all {
			if n.Spec().Name == class {
				all[i] = perturbed{Node: n, delta: delta}
			}
		}
		return node.NewRegistry(all...)
	}
}

func caseOf(t *testing.T, rec *report.Run, id string) report.Case {
	t.Helper()
	for _, c := range rec.Cases {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return report.Case{}
}

func TestFaultInjectedNodeIsARegression(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	before := snapshot(t, dir)
	rec, runDir, err := doRun(t, runConfig{goldenDir: dir, registry: registryWith("ImageScale", 0.05)})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	regs, infra := runner.Outcome(rec)
	if len(infra) > 0 {
		t.Errorf("infra problems: %v", infra)
	}
	// solid and ws go through ImageScale; invert does not.
	for _, id := range []string{"solid/seed=1", "ws/seed=1"} {
		c := caseOf(t, rec, id)
		if c.Verdict != report.Fail || !slices.Contains([]string{"colour", "structure", "local"}, c.Tier) {
			t.Errorf("%s: verdict %s tier %q (%s), want fail in a perceptual tier", id, c.Verdict, c.Tier, c.Reason)
		}
		named := false
		for _, r := range regs {
			named = named || (strings.Contains(r, id) && strings.Contains(r, c.Tier))
		}
		if !named {
			t.Errorf("regressions %v do not name %s and its tier %s", regs, id, c.Tier)
		}
		o := c.Outputs[0]
		listed := false
		for _, tp := range o.Tripped {
			listed = listed || strings.HasPrefix(tp, o.Tier)
		}
		if !listed {
			t.Errorf("%s: tripped %q, want the tiers that tripped, %s among them", id, o.Tripped, o.Tier)
		}
		if len(o.Tripped) > 1 && !strings.HasSuffix(o.Reason, "; tripped: "+strings.Join(o.Tripped, ", ")) {
			t.Errorf("%s: reason %q does not end with the ranked list %q", id, o.Reason, o.Tripped)
		}
		if o.Diff == "" || o.Candidate == "" {
			t.Errorf("%s: no diff/candidate kept: %+v", id, o)
		}
		for _, p := range []string{o.Diff, o.Candidate, o.CandidateRecord} {
			if _, err := os.Stat(filepath.Join(runDir, p)); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		if o.Key == nil || o.Key.Value <= o.Key.Threshold {
			t.Errorf("%s: key metric %+v should be over its threshold", id, o.Key)
		}
	}
	if c := caseOf(t, rec, "invert/seed=1"); c.Verdict != report.Pass {
		t.Errorf("invert: %s (%s), want pass: the fault is in ImageScale only", c.Verdict, c.Reason)
	}
	if after := snapshot(t, dir); after != before {
		t.Error("a run changed the golden dir")
	}
	// A fault far below any threshold (1 level on a 6×6 patch of the
	// gradient) is caught bit-exactly under --strict, and passes (pass~,
	// reported) otherwise.
	tiny := registryWith("ImageInvert", 1.2/255)
	for _, strict := range []bool{false, true} {
		rec, _, err := doRun(t, runConfig{goldenDir: dir, registry: tiny, strict: strict})
		if err != nil {
			t.Fatal(err)
		}
		want := report.PassApprox
		if strict {
			want = report.Fail
		}
		if c := caseOf(t, rec, "invert/seed=1"); c.Verdict != want {
			t.Errorf("strict=%v: tiny fault gives %s (%s %s), want %s", strict, c.Verdict, c.Tier, c.Reason, want)
		}
	}
}

func TestEditedGoldenColoursFailColour(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	st := golden.Store{Root: dir, Class: "cpu"}
	const wf, file = "invert", "default.seed-1.3-0"
	g, err := st.Load(wf, file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(g.PNG))
	if err != nil {
		t.Fatal(err)
	}
	// Shift the golden's colours: +4 levels of red, -3 of blue.
	b := img.Bounds()
	edited := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			c.R = uint8(min(255, int(c.R)+4))
			c.B = uint8(max(0, int(c.B)-3))
			edited.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, edited); err != nil {
		t.Fatal(err)
	}
	old, err := compare.ReadRecord(bytes.NewReader(g.Record.Compare))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := compare.NewRecord(edited, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.Provenance, rec.Fingerprint = old.Provenance, old.Fingerprint
	g.Record.Compare, _ = json.Marshal(rec)
	rb, _ := g.Record.Encode()
	if err := atomicfile.WriteFile(st.PNGPath(wf, file), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(st.RecordPath(wf, file), rb, 0o644); err != nil {
		t.Fatal(err)
	}
	run, _, err := doRun(t, runConfig{goldenDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := caseOf(t, run, "invert/seed=1")
	if c.Verdict != report.Fail || c.Tier != "colour" {
		t.Errorf("invert: %s (%s): %s; want fail (colour)", c.Verdict, c.Tier, c.Reason)
	}
	// The untouched outputs still pass.
	for _, id := range []string{"solid/seed=1", "ws/seed=1"} {
		if c := caseOf(t, run, id); c.Verdict != report.Pass {
			t.Errorf("%s: %s", id, c.Verdict)
		}
	}
}

func TestExecutorKilledMidRun(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	before := snapshot(t, dir)
	srv := local.New(local.Options{Models: emptyModels(t), WorkDir: t.TempDir(), Logger: testutil.Logger()})
	eps, err := srv.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tgt, err := target.NewURL(eps[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	rec, _, err := doRun(t, runConfig{goldenDir: dir, target: tgt, conc: 1, onCase: func(report.Case) {
		once.Do(func() { _ = srv.Close() })
	}})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	regs, infra := runner.Outcome(rec)
	if len(regs) > 0 {
		t.Errorf("a dead executor reported as regression: %v", regs)
	}
	if len(infra) == 0 {
		t.Fatal("no infrastructure problem reported")
	}
	if !strings.Contains(strings.Join(infra, "\n"), "connection refused") {
		t.Errorf("infra problems do not name the cause: %v", infra)
	}
	errs := 0
	for _, c := range rec.Cases {
		if c.Verdict == report.Error {
			errs++
		}
	}
	if errs < 2 {
		t.Errorf("%d error cases, want the 2 after the kill", errs)
	}
	if after := snapshot(t, dir); after != before {
		t.Error("the golden dir changed")
	}
	if left, err := atomicfile.Leftovers(dir); err != nil || len(left) > 0 {
		t.Errorf("leftovers %v %v", left, err)
	}
}

func TestUnreachableURLTarget(t *testing.T) {
	t.Parallel()
	srv := local.New(local.Options{Models: emptyModels(t), WorkDir: t.TempDir(), Logger: testutil.Logger()})
	eps, err := srv.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Close()
	tgt, _ := target.NewURL(eps[0].URL)
	rec, runDir, err := doRun(t, runConfig{goldenDir: t.TempDir(), target: tgt})
	if err == nil || !strings.Contains(err.Error(), "executor unreachable") {
		t.Fatalf("err = %v, want unreachable", err)
	}
	// The run record is still written, with the error.
	got, rerr := report.Read(runDir)
	if rerr != nil || got.Error == "" || rec.Error == "" {
		t.Errorf("record: %v %+v", rerr, got)
	}
}

func TestReplicasAndConcurrency(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	rec, _, err := doRun(t, runConfig{goldenDir: dir, replicas: 2, conc: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Endpoints) != 2 || rec.Concurrency != 3 {
		t.Errorf("endpoints %v concurrency %d", rec.Endpoints, rec.Concurrency)
	}
	used := map[string]bool{}
	for _, c := range rec.Cases {
		if c.Verdict != report.Pass && c.Verdict != report.Skip {
			t.Errorf("%s: %s %s", c.ID, c.Verdict, c.Error)
		}
		if c.Endpoint != "" {
			used[c.Endpoint] = true
		}
	}
	if len(used) != 2 {
		t.Errorf("endpoints used: %v, want both replicas", used)
	}
}

// flaky fails its first execution (an infrastructure-like error), then
// behaves.
type flaky struct {
	node.Node
	calls *atomic.Int32
}

func (f flaky) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	if f.calls.Add(1) == 1 {
		return node.Result{}, errors.New("transient: device busy")
	}
	return f.Node.Execute(ctx, env, in)
}

func TestInfrastructureFailureIsRetriedAndRecorded(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	for _, noRetry := range []bool{false, true} {
		var calls atomic.Int32
		reg := func() (*node.Registry, error) {
			all := nodes.Builtin()
			for i, n := range all {
				if n.Spec().Name == "ImageInvert" {
					all[i] = flaky{Node: n, calls: &calls}
				}
			}
			return node.NewRegistry(all...)
		}
		rec, _, err := doRun(t, runConfig{goldenDir: dir, registry: reg, noRetry: noRetry})
		if err != nil {
			t.Fatal(err)
		}
		c := caseOf(t, rec, "invert/seed=1")
		if noRetry {
			if c.Verdict != report.Error || !strings.Contains(c.Error, "device busy") || c.Attempts != 1 {
				t.Errorf("no retry: %s %q attempts %d", c.Verdict, c.Error, c.Attempts)
			}
			continue
		}
		if c.Verdict != report.Pass || c.Attempts != 2 || len(c.Retried) != 1 || !strings.Contains(c.Retried[0], "device busy") {
			t.Errorf("retry: %s attempts %d retried %q", c.Verdict, c.Attempts, c.Retried)
		}
	}
}

// classed is a CPU backend that reports another environment class.
type classed struct{ backend.Backend }

func (c classed) Fingerprint() backend.Fingerprint {
	fp := c.Backend.Fingerprint()
	fp.Class = "cuda-fake"
	return fp
}

func TestEnvironmentClassMismatchIsAnError(t *testing.T) {
	t.Parallel()
	be := func() (backend.Backend, error) { return classed{cpu.New()}, nil }
	for _, class := range []string{"", "cuda-fake"} {
		s, err := suite.Load(imgSuite)
		if err != nil {
			t.Fatal(err)
		}
		runDir := filepath.Join(t.TempDir(), "run")
		tgt := local.New(local.Options{Models: emptyModels(t), WorkDir: runDir, Backend: be, Logger: testutil.Logger()})
		gdir := t.TempDir()
		rec, err := runner.Run(context.Background(), runner.Options{Suite: s, Target: tgt, GoldenDir: gdir, RunDir: runDir, Class: class, Logger: testutil.Logger()})
		if class == "" {
			if err == nil || !strings.Contains(err.Error(), "--class cuda-fake") {
				t.Errorf("mismatch: err = %v", err)
			}
			continue
		}
		if err != nil || rec.Environment != "cuda-fake" {
			t.Fatalf("--class cuda-fake: %v (%s)", err, rec.Environment)
		}
		if v := verdicts(rec)["solid/seed=1"]; v != report.New {
			t.Errorf("solid = %s, want new (no cuda-fake goldens)", v)
		}
	}
}

func TestInterruptedRunStopsCleanly(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	before := snapshot(t, dir)
	s, err := suite.Load(imgSuite)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDir := filepath.Join(t.TempDir(), "run")
	tgt := local.New(local.Options{Models: emptyModels(t), WorkDir: runDir, Logger: testutil.Logger()})
	rec, err := runner.Run(ctx, runner.Options{Suite: s, Target: tgt, GoldenDir: dir, RunDir: runDir, Concurrency: 1,
		Logger: testutil.Logger(), OnCase: func(report.Case) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, infra := runner.Outcome(rec); len(infra) == 0 {
		t.Error("an interrupted run must be an infrastructure error (exit 2)")
	}
	got, rerr := report.Read(runDir)
	if rerr != nil || !strings.Contains(got.Error, "interrupted") || len(got.Cases) != 4 {
		t.Errorf("record after interrupt: %v, error %q, %d cases", rerr, got.Error, len(got.Cases))
	}
	if after := snapshot(t, dir); after != before {
		t.Error("the golden dir changed")
	}
	for _, d := range []string{dir, runDir} {
		if left, err := atomicfile.Leftovers(d); err != nil || len(left) > 0 {
			t.Errorf("leftovers in %s: %v %v", d, left, err)
		}
	}
}

func TestVanishedOutputIsARegression(t *testing.T) {
	t.Parallel()
	dir := goldens(t)
	// A golden for an output node the workflow no longer has.
	st := golden.Store{Root: dir, Class: "cpu"}
	for _, ext := range []string{".png", ".json"} {
		data, err := os.ReadFile(filepath.Join(st.Dir(), "solid", "default.seed-1.3-0"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(st.Dir(), "solid", "default.seed-1.99-0"+ext), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec, runDir, err := doRun(t, runConfig{goldenDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := caseOf(t, rec, "solid/seed=1")
	if c.Verdict != report.Fail || c.Tier != "missing" || len(c.Outputs) != 2 {
		t.Errorf("solid: %s (%s) %s, %d outputs; want fail (missing)", c.Verdict, c.Tier, c.Reason, len(c.Outputs))
	}
	// Approving the run removes the vanished golden and keeps the rest.
	acts, err := st.Approve(runner.Candidates(rec, runDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, a := range acts {
		ops[a.Op]++
	}
	if ops["removed"] != 1 || ops["kept"] != 4 {
		t.Errorf("approve ops %v, want 1 removed, 4 kept", ops)
	}
	if _, err := os.Stat(filepath.Join(st.Dir(), "solid", "default.seed-1.99-0.png")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("vanished golden still there: %v", err)
	}
}
