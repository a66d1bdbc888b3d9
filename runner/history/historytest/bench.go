package historytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/cputime"
	"github.com/regen-dev/regen/runner/history"
)

// Bench sizes: `regen history` must answer over this many runs × cases in
// under 200 ms on each backend (issue 15).
const (
	BenchRuns  = 10000
	BenchCases = 30
)

// bulk is the multi-run insert the SQL store offers (one transaction).
type bulk interface {
	RecordAll(ctx context.Context, runs []*history.Run) error
}

// Populate records runs runs of cases cases each, one commit per run,
// every case passing except a few regressions and approvals along the way
// (so history has changes to find). Returns the commits, oldest first.
func Populate(tb testing.TB, s history.Store, runs, cases int) []string {
	tb.Helper()
	ctx := context.Background()
	ids := make([]string, cases)
	for i := range ids {
		ids[i] = fmt.Sprintf("workflow-%02d[variant]/seed=1", i)
	}
	commits := make([]string, runs)
	var batch []*history.Run
	flush := func() {
		var err error
		if b, ok := s.(bulk); ok {
			err = b.RecordAll(ctx, batch)
		} else {
			for _, r := range batch {
				if err = s.Record(ctx, r); err != nil {
					break
				}
			}
		}
		if err != nil {
			tb.Fatalf("populate: %v", err)
		}
		batch = batch[:0]
	}
	for i := 0; i < runs; i++ {
		commits[i] = fmt.Sprintf("%040x", i+1)
		r := &history.Run{ID: fmt.Sprintf("bench-%05d", i), Started: T0.Add(time.Duration(i) * time.Minute),
			Finished: T0.Add(time.Duration(i)*time.Minute + 10*time.Second), Commit: commits[i],
			Subject: fmt.Sprintf("commit %d", i+1), Environment: "cpu", Target: "local", Source: history.SourceRun, WallSeconds: 10}
		if i > 0 {
			r.Parents = []string{commits[i-1]}
		}
		for c, id := range ids {
			verdict, gold := "pass", "g0"
			// Case c regresses every 97 commits for 3 commits, then its
			// golden is re-approved.
			if k := (i + c*13) % 97; k >= 50 && k < 53 {
				verdict = "fail"
			} else if k >= 53 {
				gold = "g1"
			}
			out := gold
			if verdict == "fail" {
				out = "x"
			}
			r.Cases = append(r.Cases, history.Case{ID: id, Workflow: fmt.Sprintf("workflow-%02d", c), Verdict: verdict, Tier: "exact",
				ReplaySeconds: 0.3, CompareSeconds: 0.02, TotalSeconds: 0.32,
				Outputs: []history.Output{{File: "variant.seed-1.9-0", Verdict: verdict, Tier: "exact", PixelHash: out, GoldenHash: gold,
					Metrics: map[string]float64{"exact.width": 128, "exact.height": 128, "colour.mean_delta_e": float64(i%7) / 10}}}})
		}
		batch = append(batch, r)
		if len(batch) == 500 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	if a, ok := s.(interface{ Analyze(context.Context) error }); ok {
		if err := a.Analyze(ctx); err != nil {
			tb.Fatalf("populate: %v", err)
		}
	}
	return commits
}

// RunBenchmarks measures what `regen history` and `regen history --case`
// do over a store populated with BenchRuns × BenchCases (open returns it,
// populated or not: Populate is called when it holds no run), and recording
// one run of the suite's size.
func RunBenchmarks(b *testing.B, open func(b *testing.B) history.Store) {
	ctx := context.Background()
	s := open(b)
	defer s.Close()
	cs, err := s.Commits(ctx, history.Query{})
	if err != nil {
		b.Fatal(err)
	}
	if len(cs) < BenchRuns {
		start := time.Now()
		Populate(b, s, BenchRuns, BenchCases)
		b.Logf("populated %d runs × %d cases in %s", BenchRuns, BenchCases, time.Since(start).Round(time.Millisecond))
	}
	// The first-parent order git would give, newest first.
	order := make([]string, BenchRuns)
	for i := range order {
		order[i] = fmt.Sprintf("%040x", BenchRuns-i)
	}
	b.Run("history-last-30", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			lines, err := history.Recent(ctx, s, history.Query{}, order, 30)
			if err != nil || len(lines) != 30 {
				b.Fatalf("%d lines, %v", len(lines), err)
			}
		}
	})
	b.Run("history-all", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			lines, err := history.Recent(ctx, s, history.Query{}, order, 0)
			if err != nil || len(lines) != BenchRuns {
				b.Fatalf("%d lines, %v", len(lines), err)
			}
		}
	})
	b.Run("case", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			lines, err := history.CaseHistory(ctx, s, history.Query{}, "workflow-07[variant]/seed=1", order)
			if err != nil || len(lines) != BenchRuns {
				b.Fatalf("%d lines, %v", len(lines), err)
			}
		}
	})
	b.Run("record-28-cases", func(b *testing.B) {
		defer cpuPerOp(b)()
		i := 0
		for b.Loop() {
			i++
			r := SampleRun(fmt.Sprintf("rec-%d-%d", time.Now().UnixNano(), i), "ffff", i, "pass", "h", caseIDs(28)...)
			if err := s.Record(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func caseIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("case-%02d", i)
	}
	return out
}

// cpuPerOp reports the process's CPU time (user + system) per iteration as
// cpu-ms/op: on a shared machine wall time says more about the neighbours
// than about the code. Call as defer cpuPerOp(b)().
func cpuPerOp(b *testing.B) func() {
	start := cputime.Process()
	return func() {
		b.ReportMetric(float64((cputime.Process()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}
