package runner_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/sqlite"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target/local"

	"github.com/regen-dev/regen/internal/testutil"
)

// timedSink times another sink.
type timedSink struct {
	runner.Sink
	spent time.Duration
}

func (t *timedSink) Consume(ctx context.Context, dir string, r *report.Run) error {
	start := time.Now()
	err := t.Sink.Consume(ctx, dir, r)
	t.spent += time.Since(start)
	return err
}

// BenchmarkFixtureRunHistory runs the committed fixture suite against the
// committed goldens with and without recording into a SQLite history, and
// reports what recording costs: record-ms/op (the recorder sink alone) and
// record-% of the run's wall time (issue 15: at most 2 %).
func BenchmarkFixtureRunHistory(b *testing.B) {
	for _, withHistory := range []bool{false, true} {
		name := "without-history"
		if withHistory {
			name = "with-sqlite-history"
		}
		b.Run(name, func(b *testing.B) {
			st, err := suite.Load("../fixtures/suite.yaml")
			if err != nil {
				b.Fatal(err)
			}
			tmp := b.TempDir()
			var rec *timedSink
			if withHistory {
				hs, err := sqlite.Open(context.Background(), filepath.Join(tmp, "history.db"), sqlite.Options{Create: true})
				if err != nil {
					b.Fatal(err)
				}
				defer hs.Close()
				rec = &timedSink{Sink: &history.Recorder{Store: hs, Logger: testutil.Logger()}}
			}
			var wall time.Duration
			i := 0
			for b.Loop() {
				i++
				runDir := filepath.Join(tmp, "run", string(rune('a'+i%26)), time.Now().Format("150405.000000000"))
				sinks := runner.DefaultSinks(testutil.Logger())
				if rec != nil {
					sinks = append([]runner.Sink{rec}, sinks...)
				}
				start := time.Now()
				r, err := runner.Run(context.Background(), runner.Options{
					Suite: st, SuitePath: "../fixtures/suite.yaml", GoldenDir: "../golden", RunDir: runDir, Logger: testutil.Logger(),
					Target: local.New(local.Options{Models: "../fixtures/models", WorkDir: runDir, Logger: testutil.Logger()}),
					Sinks:  sinks, RepoDir: "..",
				})
				wall += time.Since(start)
				if err != nil {
					b.Fatalf("run: %v", err)
				}
				if regs, infra := runner.Outcome(r); len(regs)+len(infra) > 0 {
					b.Fatalf("the fixture suite does not pass: %v %v", regs, infra)
				}
			}
			b.ReportMetric(wall.Seconds()/float64(b.N), "run-s/op")
			if rec != nil {
				b.ReportMetric(float64(rec.spent.Microseconds())/1000/float64(b.N), "record-ms/op")
				b.ReportMetric(100*rec.spent.Seconds()/wall.Seconds(), "record-%")
			}
		})
	}
}
