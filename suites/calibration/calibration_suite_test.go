package calibration_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/executor"
	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cudaemu"
	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/calibrate"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target/local"
)

const (
	suitePath = "../../fixtures/suite.yaml"
	modelsDir = "../../fixtures/models"
	// nondetClass is the class of the emulated backend with
	// --nondeterministic.
	nondetClass = "cuda-emulated-nondet"
)

var (
	runs   = flag.Int("calibration.runs", 3, "calibration replays per case (N)")
	judged = flag.Int("calibration.judged", 3, "judged runs after the calibration")
	filter = flag.String("calibration.filter", `^txt2img-gmm\[euler\]/seed=[12]$`, "the cases calibrated and judged")
)

func TestCalibration(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Calibration Suite", Label("calibration"))
}

// nondet is the cuda-emulated backend with the combine order shuffled on
// every call (each replica seeded from its start time).
func nondet() (backend.Backend, error) {
	return cudaemu.New(cudaemu.Options{Nondeterministic: true})
}

// options are a run's options on a fresh in-process nondeterministic
// target whose files go under a new folder of dir.
func options(st *suite.Suite, goldenDir, class string, cross bool) runner.Options {
	runDir, err := os.MkdirTemp(GinkgoT().TempDir(), "run-")
	Expect(err).NotTo(HaveOccurred())
	tgt := local.New(local.Options{Models: modelsDir, WorkDir: runDir, Backend: executor.BackendFunc(nondet), Logger: testutil.Logger()})
	return runner.Options{Suite: st, SuitePath: suitePath, Target: tgt, GoldenDir: goldenDir, RunDir: runDir, Class: class, CrossClass: cross,
		Filter: regexp.MustCompile(*filter), Logger: testutil.Logger(), Sinks: []runner.Sink{}}
}

// calibrateWith starts a session with o and calibrates its cases.
func calibrateWith(ctx context.Context, o runner.Options) *calibrate.Report {
	sess, err := runner.Start(ctx, o)
	if sess != nil {
		defer sess.Close()
	}
	Expect(err).NotTo(HaveOccurred())
	cases := sess.Plan()
	Expect(cases).NotTo(BeEmpty())
	rep, err := calibrate.Run(ctx, calibrate.Options{Session: sess, Cases: cases, Runs: *runs, Logger: testutil.Logger()})
	Expect(err).NotTo(HaveOccurred())
	return rep
}

// expectCalibrated checks that every case was calibrated and written, and
// that every applicable positive control failed with its tiers named.
func expectCalibrated(rep *calibrate.Report, target string) {
	controls, failed := 0, 0
	for _, c := range rep.Cases {
		Expect(c.Error).To(BeEmpty(), c.ID)
		Expect(c.Outputs).NotTo(BeEmpty(), c.ID)
		for _, o := range c.Outputs {
			Expect(o.Swallowed).To(BeEmpty(), "%s %s: controls swallowed by the spread", c.ID, o.File)
			Expect(o.Missed).To(BeEmpty(), "%s %s: controls missed at the floors", c.ID, o.File)
			Expect(o.Written).To(BeTrue(), "%s %s", c.ID, o.File)
			cal := o.Calibration
			Expect(cal.Target).To(Equal(target))
			Expect(cal.Runs).To(Equal(*runs))
			for _, ct := range cal.Controls {
				if ct.Note != "" {
					continue
				}
				controls++
				if ct.Verdict == "fail" && len(ct.Tripped) > 0 {
					failed++
				}
				AddReportEntry(fmt.Sprintf("%s %s %s", c.ID, o.File, ct.Name), fmt.Sprintf("%s, margin %.3g, tripped %s", ct.Verdict, ct.Margin, strings.Join(ct.Tripped, ", ")))
			}
		}
	}
	Expect(controls).To(BeNumerically(">=", 6*len(rep.Cases)-1), "controls measured")
	Expect(failed).To(Equal(controls), "positive controls that failed with tiers named")
}

// expectNoFalseAlarm runs the judged runs and checks that every output
// passed; it returns the number of comparisons.
func expectNoFalseAlarm(ctx context.Context, mk func() runner.Options, wantTarget string) int {
	comparisons := 0
	for i := range *judged {
		rec, err := runner.Run(ctx, mk())
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.TargetClass).To(Equal(wantTarget))
		for _, c := range rec.Cases {
			Expect(c.Verdict).To(BeElementOf(report.Pass, report.PassApprox), "judged run %d: %s %s (%s) %s %s", i+1, c.ID, c.Verdict, c.Tier, c.Reason, c.Error)
			comparisons += len(c.Outputs)
		}
	}
	return comparisons
}

var _ = Describe("calibrated thresholds on a nondeterministic target", Ordered, func() {
	var st *suite.Suite
	BeforeAll(func() {
		if raceEnabled {
			Skip("the emulator's arithmetic is minutes under -race: make test runs this suite once without it (go test ./suites/calibration)")
		}
		var err error
		st, err = suite.Load(suitePath)
		Expect(err).NotTo(HaveOccurred())
	})

	It("calibrates the target's own goldens: no false alarm, every positive control caught", func(ctx SpecContext) {
		gdir := filepath.Join(GinkgoT().TempDir(), "golden")
		Expect(os.MkdirAll(gdir, 0o755)).To(Succeed())
		// The target's own goldens: replay once, approve.
		o := options(st, gdir, nondetClass, false)
		rec, err := runner.Run(ctx, o)
		Expect(err).NotTo(HaveOccurred())
		_, err = golden.Store{Root: gdir, Class: nondetClass}.Approve(runner.Candidates(rec, o.RunDir), nil)
		Expect(err).NotTo(HaveOccurred())

		expectCalibrated(calibrateWith(ctx, options(st, gdir, nondetClass, false)), nondetClass)
		n := expectNoFalseAlarm(ctx, func() runner.Options { return options(st, gdir, nondetClass, false) }, nondetClass)
		AddReportEntry("comparisons without a false alarm", n)
	})

	It("judges the CPU goldens across classes: no false alarm, and a sampler regression is caught", func(ctx SpecContext) {
		gdir := filepath.Join(GinkgoT().TempDir(), "golden")
		for _, f := range []string{"txt2img-gmm/euler.seed-1.7-0", "txt2img-gmm/euler.seed-2.7-0"} {
			for _, ext := range []string{".png", ".json"} {
				b, err := os.ReadFile(filepath.Join("../../golden/cpu", f+ext))
				Expect(err).NotTo(HaveOccurred())
				Expect(os.MkdirAll(filepath.Join(gdir, "cpu", filepath.Dir(f)), 0o755)).To(Succeed())
				Expect(os.WriteFile(filepath.Join(gdir, "cpu", f+ext), b, 0o644)).To(Succeed())
			}
		}
		// (Without a calibration for the pair nothing would be judged:
		// runner's TestCrossClassJudgingNeedsACalibration.)
		expectCalibrated(calibrateWith(ctx, options(st, gdir, "cpu", true)), nondetClass)
		n := expectNoFalseAlarm(ctx, func() runner.Options { return options(st, gdir, "cpu", true) }, nondetClass)
		AddReportEntry("cross-class comparisons without a false alarm", n)

		// A scratch copy of the suite whose cases use another sampler.
		scratch := scratchSuite(GinkgoT())
		rst, err := suite.Load(scratch)
		Expect(err).NotTo(HaveOccurred())
		rec, err := runner.Run(ctx, options(rst, gdir, "cpu", true))
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Cases).NotTo(BeEmpty())
		for _, c := range rec.Cases {
			Expect(c.Verdict).To(Equal(report.Fail), "%s with another sampler: %s %s", c.ID, c.Verdict, c.Reason)
			pixels := false
			for _, tp := range c.Outputs[0].Tripped {
				pixels = pixels || strings.HasPrefix(tp, "colour") || strings.HasPrefix(tp, "structure") || strings.HasPrefix(tp, "local")
			}
			Expect(pixels).To(BeTrue(), "%s: tripped %v, want a pixel tier besides provenance", c.ID, c.Outputs[0].Tripped)
		}
	})
})

// scratchSuite writes a copy of the calibrated cases' suite entry where
// they use dpmpp_2m instead of euler: the same case ids (and goldens),
// another sampler.
func scratchSuite(t GinkgoTInterface) string {
	dir := t.TempDir()
	for _, f := range []string{"txt2img-gmm.json", "object_info.json"} {
		b, err := os.ReadFile(filepath.Join("../../fixtures/workflows", f))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, f), b, 0o644)).To(Succeed())
	}
	y := `environment: cpu
seeds: [1, 2]
timeout: 120s
object_info: object_info.json
workflows:
  - path: txt2img-gmm.json
    variants:
      - name: euler
        overrides: {sampler_name: dpmpp_2m}
`
	p := filepath.Join(dir, "suite.yaml")
	Expect(os.WriteFile(p, []byte(y), 0o644)).To(Succeed())
	return p
}
