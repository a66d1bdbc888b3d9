package runner

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target/local"
)

const fixtureSuite = "../fixtures/suite.yaml"

// BenchmarkPlan measures planning the committed suite (load, convert,
// alias, override, pin) with the committed /object_info capture.
func BenchmarkPlan(b *testing.B) {
	s, err := suite.Load(fixtureSuite)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if cs := plan.Build(s, plan.Options{}); len(cs) == 0 {
			b.Fatal("no cases")
		}
	}
}

// BenchmarkCase replays one case of the committed suite on the local
// executor, judged against a golden, and reports the executor's time
// (replay-ms/case, submit to downloaded outputs) against the harness's
// (harness-ms/case: provenance, comparison of every tier, candidate
// files).
func BenchmarkCase(b *testing.B) {
	for _, tc := range []struct{ name, filter string }{
		{"txt2img-gmm-128", `^txt2img-gmm\[euler\]/seed=1$`},
		{"batch-4-outputs", `^batch/seed=1$`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			st, err := suite.Load(fixtureSuite)
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			tgt := local.New(local.Options{Models: "../fixtures/models", WorkDir: dir, Logger: testutil.Logger()})
			s, err := Start(ctx, Options{Suite: st, Target: tgt, GoldenDir: filepath.Join(dir, "golden"),
				RunDir: filepath.Join(dir, "run"), Filter: regexp.MustCompile(tc.filter), Logger: testutil.Logger()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			cases := s.Plan()
			if len(cases) != 1 {
				b.Fatalf("plan: %d cases", len(cases))
			}
			// Make the golden, so that every iteration is judged.
			first := s.Case(ctx, cases[0], 0)
			rec := &report.Run{Cases: []report.Case{first}}
			if _, err := (golden.Store{Root: filepath.Join(dir, "golden"), Class: "cpu"}).Approve(Candidates(rec, filepath.Join(dir, "run")), nil); err != nil {
				b.Fatal(err)
			}
			var replay, harness time.Duration
			b.ResetTimer()
			for b.Loop() {
				rc := s.Case(ctx, cases[0], 0)
				if rc.Verdict != report.Pass {
					b.Fatalf("verdict %s: %s %s", rc.Verdict, rc.Error, rc.Reason)
				}
				replay += time.Duration(rc.ReplaySeconds * float64(time.Second))
				harness += time.Duration((rc.TotalSeconds - rc.ReplaySeconds) * float64(time.Second))
			}
			b.ReportMetric(float64(replay.Milliseconds())/float64(b.N), "replay-ms/case")
			b.ReportMetric(float64(harness.Microseconds())/1000/float64(b.N), "harness-ms/case")
		})
	}
}

// BenchmarkReportWrite measures writing results.json, junit.xml and
// summary.txt for a run the size of the committed suite.
func BenchmarkReportWrite(b *testing.B) {
	r := &report.Run{Environment: "cpu"}
	for i := 0; i < 26; i++ {
		r.Cases = append(r.Cases, report.Case{ID: "w/seed=1", Workflow: "w", Verdict: report.Pass,
			Outputs: []report.Output{{File: "f", Verdict: report.Pass, Metrics: map[string]float64{"exact.width": 128, "exact.height": 128}}}})
	}
	dir := b.TempDir()
	for b.Loop() {
		if err := report.Write(dir, r); err != nil {
			b.Fatal(err)
		}
	}
}
