package history_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/sqlite"
	"github.com/regen-dev/regen/runner/report"
)

func run(commit string, at int, verdicts map[string]report.Verdict) *report.Run {
	r := &report.Run{Started: time.Date(2026, 12, 1, 0, at, 0, 0, time.UTC), Environment: "cpu", Target: "local",
		Git: report.Git{Commit: commit, Subject: "subject " + commit, Parents: []string{"p"}}}
	for _, id := range []string{"a", "b"} {
		v := verdicts[id]
		r.Cases = append(r.Cases, report.Case{ID: id, Workflow: "w", Verdict: v, Outputs: []report.Output{
			{File: "f", Verdict: v, GoldenHash: "g-" + id, Metrics: map[string]float64{"colour.mean_delta_e": 1}},
		}})
	}
	return r
}

func TestRecorderAnnotatesFailingCases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "h.db"), sqlite.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &history.Recorder{Store: s}
	pass := map[string]report.Verdict{"a": report.Pass, "b": report.Pass}
	bad := map[string]report.Verdict{"a": report.Fail, "b": report.Pass}
	for i, r := range []*report.Run{run("c1", 1, pass), run("c2", 2, pass), run("c3", 3, bad)} {
		if err := rec.Consume(ctx, "", r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if i < 2 && (r.Cases[0].Since != nil || r.Cases[1].Since != nil) {
			t.Errorf("run %d: a passing case was annotated", i)
		}
	}
	last := run("c4", 4, bad)
	if err := rec.Consume(ctx, "", last); err != nil {
		t.Fatal(err)
	}
	a := last.Cases[0].Since
	if a == nil || a.LastPass != "c2" || a.FirstFail != "c3" || a.FirstFailSubj != "subject c3" {
		t.Fatalf("since of a = %+v, want last pass c2, first fail c3", a)
	}
	if last.Cases[1].Since != nil {
		t.Errorf("b passes: %+v", last.Cases[1].Since)
	}
	if !strings.Contains(a.String(), "last pass c2 (subject c2)") {
		t.Errorf("since line: %s", a)
	}
	// The same results.json again: refused, never recorded twice.
	if err := rec.Consume(ctx, "", run("c4", 4, bad)); !errors.Is(err, history.ErrRunExists) {
		t.Errorf("second record of the same run: %v", err)
	}
	// A run outside git cannot be recorded: an error, never a silent pass.
	if err := rec.Consume(ctx, "", run("", 5, pass)); err == nil {
		t.Error("a run without a commit was recorded")
	}
	// Outside git, the binary's build commit names the run (the CronJob).
	built := &history.Recorder{Store: s, BuildCommit: "abc1234"}
	if err := built.Consume(ctx, "", run("", 6, pass)); err != nil {
		t.Errorf("a run of a stamped binary outside git: %v", err)
	}
	// An exact pass without a pixel hash (an older results.json) takes its
	// golden's hash.
	got, err := s.Run(ctx, history.RunID(run("c1", 1, pass)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Cases[0].Outputs[0].PixelHash != "g-a" {
		t.Errorf("pixel hash of an exact pass = %q, want its golden's", got.Cases[0].Outputs[0].PixelHash)
	}
}
