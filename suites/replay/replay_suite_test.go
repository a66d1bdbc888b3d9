package replay_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/local"
)

var (
	serverURL = flag.String("replay.url", "", "replay on this ComfyUI-compatible server instead of the in-process executor")
	goldenDir = flag.String("replay.golden-dir", "../../golden", "golden root")
	modelsDir = flag.String("replay.models", "../../fixtures/models", "local executor: models directory")
	reportDir = flag.String("replay.report", "", "where candidates and diffs go (default $ARTIFACTS/replay, else a temp dir)")
	strict    = flag.Bool("replay.strict", false, "treat pass~ as a failure")
	all       = flag.Bool("replay.all", false, "also run cases labelled slow under -race, and every case under -short")
)

func TestReplay(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Replay Suite")
}

// The cases are planned when the spec tree is built (before any server
// runs, and before flags are parsed: REGEN_SUITE names another suite file),
// with the suite's committed /object_info capture; each spec then replays
// the case as the runner plans it against the live target.
var theSuite, cases, planErr = planCases()

func planCases() (*suite.Suite, []plan.Case, error) {
	s, err := suite.Load(suitePath())
	if err != nil {
		return nil, nil, err
	}
	return s, plan.Build(s, plan.Options{}), nil
}

func suitePath() string {
	if v := os.Getenv("REGEN_SUITE"); v != "" {
		return v
	}
	return "../../fixtures/suite.yaml"
}

var (
	runDir  string
	session *runner.Session
	live    map[string]plan.Case
	local0  *local.Target
)

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	Expect(planErr).NotTo(HaveOccurred())
	if *serverURL != "" {
		return []byte(*serverURL)
	}
	dir, err := os.MkdirTemp("", "regen-replay-executor-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	local0 = local.New(local.Options{Models: *modelsDir, WorkDir: dir, Logger: testutil.Logger()})
	eps, err := local0.Start(ctx)
	Expect(err).NotTo(HaveOccurred())
	return []byte(eps[0].URL)
}, func(ctx SpecContext, url []byte) {
	tgt, err := target.NewURL(string(url))
	Expect(err).NotTo(HaveOccurred())
	out := *reportDir
	if out == "" {
		if a := os.Getenv("ARTIFACTS"); a != "" {
			out = filepath.Join(a, "replay")
		} else {
			out = GinkgoT().TempDir()
		}
	}
	runDir = filepath.Join(out, fmt.Sprintf("proc-%d", GinkgoParallelProcess()))
	session, err = runner.Start(ctx, runner.Options{
		Suite: theSuite, SuitePath: suitePath(), Target: tgt, GoldenDir: *goldenDir,
		RunDir: runDir, Strict: *strict, Retries: 1,
		Logger: testutil.Logger(), RepoDir: "../..",
	})
	Expect(err).NotTo(HaveOccurred())
	planned := session.Plan()
	live = map[string]plan.Case{}
	for _, c := range planned {
		live[c.ID] = c
	}
}, NodeTimeout(2*time.Minute))

var _ = SynchronizedAfterSuite(func() {}, func() {
	if local0 != nil {
		Expect(local0.Close()).To(Succeed())
	}
})

var _ = Describe("replay", func() {
	for _, c := range cases {
		It(c.ID, Label(c.Labels...), func(ctx SpecContext) {
			if c.Skip != "" {
				Skip(c.Skip)
			}
			if !*all && raceEnabled && slices.Contains(c.Labels, "slow") {
				Skip("labelled slow: skipped under -race (make e2e runs it; -replay.all forces it)")
			}
			if !*all && testing.Short() && !slices.Contains(c.Labels, "smoke") {
				Skip("-short runs only the cases labelled smoke (-replay.all forces every case)")
			}
			lc, ok := live[c.ID]
			Expect(ok).To(BeTrue(), "the live target planned no case %s", c.ID)
			if lc.Skip != "" {
				// The live target's profile skips it (a real ComfyUI
				// has none of regen's fixture checkpoints).
				Skip(lc.Skip)
			}
			rc := session.Case(ctx, lc, 0)
			AddReportEntry("case", summary(rc), ReportEntryVisibilityFailureOrVerbose)
			for _, o := range rc.Outputs {
				AddReportEntry("metrics:"+o.File, o.Metrics, ReportEntryVisibilityNever)
			}
			switch rc.Verdict {
			case report.Pass:
			case report.PassApprox:
				if *strict {
					Fail(fmt.Sprintf("pass~ under -replay.strict: %s", rc.Reason))
				}
			case report.New:
				Fail(fmt.Sprintf("no golden for %s; run `make goldens` (regen run, then regen golden approve) and review the diff", c.ID))
			case report.Error:
				Fail("replay error: " + rc.Error)
			default:
				Fail(fmt.Sprintf("%s (%s): %s%s", rc.Verdict, rc.Tier, rc.Reason, artefacts(rc)))
			}
		}, NodeTimeout(3*time.Minute))
	}
})

// summary renders a case result for the spec report: verdicts, tiers and
// key metrics per output, without the comparator's raw JSON.
func summary(rc report.Case) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s) replay %.2fs compare %.2fs", rc.ID, rc.Verdict, rc.Tier, rc.ReplaySeconds, rc.CompareSeconds)
	for _, o := range rc.Outputs {
		fmt.Fprintf(&b, "\n  %s: %s", o.File, o.Verdict)
		if o.Tier != "" {
			fmt.Fprintf(&b, " (%s)", o.Tier)
		}
		if o.Key != nil {
			fmt.Fprintf(&b, " %s %.4g / %.4g", o.Key.Name, o.Key.Value, o.Key.Threshold)
		}
	}
	return b.String()
}

// artefacts names where the failing outputs' candidates and diffs are.
func artefacts(rc report.Case) string {
	var b strings.Builder
	for _, o := range rc.Outputs {
		if o.Candidate != "" {
			fmt.Fprintf(&b, "\n  %s: candidate %s", o.File, filepath.Join(runDir, o.Candidate))
			if o.Diff != "" {
				fmt.Fprintf(&b, ", diff %s", filepath.Join(runDir, o.Diff))
			}
		}
	}
	return b.String()
}
