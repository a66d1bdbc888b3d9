// Package historytest holds the conformance suite every history.Store
// backend must pass, and helpers to make runs for tests and benchmarks.
package historytest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/regen-dev/regen/runner/history"
)

// Opener returns a fresh, empty store for one subtest; the suite closes it.
type Opener func(t testing.TB) history.Store

// T0 is the time the sample runs start at.
var T0 = time.Date(2026, 12, 1, 8, 0, 0, 123456789, time.UTC)

// SampleRun returns a run of cases ids at commit, each case with one output
// (two for the first case) whose pixel hash is hash+case id; verdict is
// every case's verdict.
func SampleRun(id, commit string, seq int, verdict, hash string, ids ...string) *history.Run {
	r := &history.Run{
		ID: id, Started: T0.Add(time.Duration(seq) * time.Minute), Finished: T0.Add(time.Duration(seq)*time.Minute + 30*time.Second),
		Commit: commit, Parents: []string{"parent-of-" + commit}, Subject: "subject " + commit,
		AuthorDate: T0.Add(-time.Hour).Truncate(time.Second), SuiteHash: "suite1", Environment: "cpu",
		Target: "local", Fingerprint: "fp1", Source: history.SourceRun, WallSeconds: 30,
	}
	for i, cid := range ids {
		c := history.Case{ID: cid, Workflow: "wf", Verdict: verdict, Tier: "exact", ReplaySeconds: 0.5, CompareSeconds: 0.1, TotalSeconds: 0.6}
		n := 1
		if i == 0 {
			n = 2
		}
		for k := 0; k < n; k++ {
			c.Outputs = append(c.Outputs, history.Output{
				File: fmt.Sprintf("out-%d", k), Verdict: verdict, Tier: "exact",
				PixelHash: hash + "-" + cid, GoldenHash: "g-" + cid,
				Metrics: map[string]float64{"colour.mean_de": 0.25 * float64(seq), "local.ratio": 0},
			})
		}
		r.Cases = append(r.Cases, c)
	}
	return r
}

// RunConformance runs the suite against the stores open makes.
func RunConformance(t *testing.T, open Opener) {
	t.Helper()
	ctx := context.Background()
	with := func(t *testing.T) history.Store {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		in := SampleRun("run-1", "c1", 1, "pass", "h", "a", "b")
		in.Dirty, in.DiffHash = true, "diffhash"
		in.Parents = []string{"p1", "p2"}
		in.Cases[1].Verdict, in.Cases[1].Tier, in.Cases[1].Reason = "fail", "colour", "mean ΔE 3 > 2"
		in.Cases[1].Outputs[0].Image = "img-b"
		if err := s.Record(ctx, in); err != nil {
			t.Fatalf("record: %v", err)
		}
		got, err := s.Run(ctx, "run-1")
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !reflect.DeepEqual(got, in) {
			t.Errorf("round trip differs:\n got %+v\nwant %+v", got, in)
		}
	})
	t.Run("DuplicateRunIsRefusedAndChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		if err := s.Record(ctx, SampleRun("run-1", "c1", 1, "pass", "h", "a")); err != nil {
			t.Fatal(err)
		}
		err := s.Record(ctx, SampleRun("run-1", "c2", 2, "fail", "x", "a", "b"))
		if !errors.Is(err, history.ErrRunExists) {
			t.Fatalf("second record of run-1: got %v, want ErrRunExists", err)
		}
		got, err := s.Run(ctx, "run-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Commit != "c1" || len(got.Cases) != 1 {
			t.Errorf("the refused record changed the run: %+v", got)
		}
	})
	t.Run("MissingRun", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		if _, err := s.Run(ctx, "nope"); !errors.Is(err, history.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("CommitsAndLatestStates", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		second := SampleRun("r3", "c2", 3, "fail", "h2", "a") // a filtered rerun of c2
		second.Cases[0].Tier = "colour"
		for _, r := range []*history.Run{
			SampleRun("r1", "c1", 1, "pass", "h", "a", "b"),
			SampleRun("r2", "c2", 2, "pass", "h", "a", "b"),
			second,
			SampleRun("r4", "c3", 4, "pass", "h", "a", "b"),
		} {
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := s.Commits(ctx, history.Query{})
		if err != nil {
			t.Fatal(err)
		}
		var hashes []string
		var runs []int
		for _, c := range cs {
			hashes, runs = append(hashes, c.Commit), append(runs, c.Runs)
		}
		if !reflect.DeepEqual(hashes, []string{"c1", "c2", "c3"}) || !reflect.DeepEqual(runs, []int{1, 2, 1}) {
			t.Errorf("commits %v runs %v, want [c1 c2 c3] [1 2 1]", hashes, runs)
		}
		if cs[1].Subject != "subject c2" || !cs[1].FirstRecorded.Before(cs[1].LastRecorded) {
			t.Errorf("commit c2: %+v", cs[1])
		}
		st, err := s.States(ctx, history.Query{}, []string{"c2", "c9"})
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 1 || len(st["c2"]) != 2 {
			t.Fatalf("states: %+v", st)
		}
		a, b := st["c2"][0], st["c2"][1]
		if a.Case != "a" || a.RunID != "r3" || a.Verdict != "fail" || a.Tier != "colour" {
			t.Errorf("case a at c2: got %+v, want the rerun's fail", a)
		}
		if b.Case != "b" || b.RunID != "r2" || b.Verdict != "pass" || b.OutputHash != "h-b" || b.GoldenHash != "g-b" {
			t.Errorf("case b at c2: got %+v, want r2's pass", b)
		}
		if a.OutputHash == "" || a.OutputHash == "h2-a" {
			t.Errorf("case a has two outputs: its hash must combine them, got %q", a.OutputHash)
		}
	})
	t.Run("TimelineInRecordOrderWithMetrics", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		for i, c := range []string{"c1", "c2", "c3"} {
			v := "pass"
			if i == 1 {
				v = "fail"
			}
			r := SampleRun(fmt.Sprintf("r%d", i), c, i, v, "h", "b", "a")
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		tl, err := s.Timeline(ctx, history.Query{}, "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != 3 {
			t.Fatalf("timeline: %d entries, want 3", len(tl))
		}
		for i, want := range []string{"pass", "fail", "pass"} {
			if tl[i].Verdict != want || tl[i].Commit != fmt.Sprintf("c%d", i+1) {
				t.Errorf("entry %d: %+v, want %s at c%d", i, tl[i], want, i+1)
			}
			if got := tl[i].Metrics["colour.mean_de"]; got != 0.25*float64(i) {
				t.Errorf("entry %d: colour.mean_de = %v, want %v", i, got, 0.25*float64(i))
			}
		}
		if tl, _ := s.Timeline(ctx, history.Query{}, "zzz"); len(tl) != 0 {
			t.Errorf("unknown case: %d entries", len(tl))
		}
	})
	t.Run("EnvironmentFilter", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		cuda := SampleRun("r2", "c1", 2, "fail", "h", "a")
		cuda.Environment = "cuda-x"
		for _, r := range []*history.Run{SampleRun("r1", "c1", 1, "pass", "h", "a"), cuda} {
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		st, err := s.States(ctx, history.Query{Environment: "cpu"}, []string{"c1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(st["c1"]) != 1 || st["c1"][0].Verdict != "pass" {
			t.Errorf("cpu states: %+v", st)
		}
		tl, err := s.Timeline(ctx, history.Query{Environment: "cuda-x"}, "a")
		if err != nil || len(tl) != 1 || tl[0].Verdict != "fail" {
			t.Errorf("cuda timeline: %+v %v", tl, err)
		}
	})
	t.Run("KeptImagesPerCommit", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		for i, c := range []string{"c1", "c2", "c3"} {
			r := SampleRun(fmt.Sprintf("r%d", i), c, i, "pass", "h", "a", "b")
			r.Cases[1].Outputs[0].Image = "img-" + c
			r.Cases[0].Outputs[0].Image = "shared" // deduplicated by content
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Images(ctx, history.Query{}, []string{"c2", "c3"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"img-c2": true, "img-c3": true, "shared": true}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Images = %v, want %v", got, want)
		}
	})
	t.Run("BisectRunsAreKeptApart", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		b := SampleRun("b1", "c2", 2, "fail", "h", "a")
		b.Source = history.BisectSource("c1")
		for _, r := range []*history.Run{SampleRun("r1", "c1", 1, "pass", "h", "a"), b} {
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := s.Commits(ctx, history.Query{})
		if err != nil || len(cs) != 1 || cs[0].Commit != "c1" {
			t.Errorf("commits without bisect runs: %+v %v", cs, err)
		}
		q := history.Query{Source: history.BisectSource("c1")}
		st, err := s.States(ctx, q, []string{"c1", "c2"})
		if err != nil || len(st) != 1 || len(st["c2"]) != 1 || st["c2"][0].Verdict != "fail" {
			t.Errorf("bisect states: %+v %v", st, err)
		}
		if tl, err := s.Timeline(ctx, history.Query{}, "a"); err != nil || len(tl) != 1 {
			t.Errorf("timeline without bisect runs: %+v %v", tl, err)
		}
	})
	t.Run("ConcurrentWriters", func(t *testing.T) {
		t.Parallel()
		s := with(t)
		const writers, each = 6, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					id := fmt.Sprintf("w%d-%d", w, i)
					if err := s.Record(ctx, SampleRun(id, fmt.Sprintf("c%d", i), w*each+i, "pass", "h", "a", "b", "c")); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent record: %v", err)
		}
		cs, err := s.Commits(ctx, history.Query{})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, c := range cs {
			total += c.Runs
		}
		if len(cs) != each || total != writers*each {
			t.Errorf("%d commits, %d runs; want %d, %d", len(cs), total, each, writers*each)
		}
	})
}
