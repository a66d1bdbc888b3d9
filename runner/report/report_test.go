package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/regen-dev/regen/internal/atomicfile"
)

func sampleRun() *Run {
	start := time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)
	return &Run{
		Started: start, Finished: start.Add(3 * time.Second), WallSeconds: 3,
		Git: Git{Commit: "abc123", Dirty: true}, Target: "local", Environment: "cpu",
		Suite: "fixtures/suite.yaml", Concurrency: 2,
		Cases: []Case{
			{ID: "a/seed=1", Workflow: "a", Seed: 1, Verdict: Pass, Tier: "exact", TotalSeconds: 1,
				Outputs: []Output{{Node: "9", File: "default.seed-1.9-0", Verdict: Pass, Tier: "exact",
					Metrics: map[string]float64{"exact.identical": 1}}}},
			{ID: "a[euler]/seed=1", Workflow: "a", Variant: "euler", Seed: 1, Verdict: Fail, Tier: "colour", Reason: "ΔE 3 > 2",
				Outputs: []Output{{Node: "9", File: "euler.seed-1.9-0", Verdict: Fail, Tier: "colour",
					Key:     &Metric{Name: "colour.de_mean", Value: 3, Threshold: 2},
					Metrics: map[string]float64{"colour.de_mean": 3, "structure.euc": 10}, Candidate: "candidates/a/euler.seed-1.9-0.png"}}},
			{ID: "b/seed=1", Workflow: "b", Seed: 1, Verdict: Error, Error: "replay: connection refused"},
			{ID: "c/seed=1", Workflow: "c", Seed: 1, Verdict: New},
			{ID: "d/seed=1", Workflow: "d", Seed: 1, Verdict: Skip, Skip: "too slow"},
			{ID: "e/seed=1", Workflow: "e", Seed: 1, Verdict: PassApprox, Tier: "local",
				Outputs: []Output{{File: "default.seed-1.3-0", Verdict: PassApprox, Key: &Metric{Name: "local.ratio", Value: 0.001, Threshold: 0.01}}}},
		},
	}
}

func TestWriteAndRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := sampleRun()
	if err := Write(dir, r); err != nil {
		t.Fatalf("Write: %v", err)
	}
	want := Totals{Cases: 6, Pass: 1, PassApprox: 1, Fail: 1, Error: 1, New: 1, Skip: 1}
	if r.Totals != want {
		t.Errorf("totals = %+v, want %+v", r.Totals, want)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got.Cases) != 6 || got.Cases[1].Outputs[0].Metrics["structure.euc"] != 10 || !got.Git.Dirty {
		t.Errorf("round trip lost data: %+v", got.Cases[1])
	}
	// Every metric is in the JSON, by name.
	raw, _ := os.ReadFile(filepath.Join(dir, ResultsFile))
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatalf("results.json is not JSON: %v", err)
	}
	for _, k := range []string{`"colour.de_mean": 3`, `"structure.euc": 10`, `"schema_version": 1`} {
		if !bytes.Contains(raw, []byte(k)) {
			t.Errorf("results.json lacks %s", k)
		}
	}
	left, err := atomicfile.Leftovers(dir)
	if err != nil || len(left) > 0 {
		t.Errorf("leftovers: %v %v", left, err)
	}
}

func TestJUnitParses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                        string
		strict                      bool
		failures, errors, skipped   int
		wantFailureInCase, wantTier string
	}{
		{name: "default", failures: 1, errors: 2, skipped: 1, wantFailureInCase: "a[euler]/seed=1", wantTier: "colour"},
		{name: "strict", strict: true, failures: 2, errors: 2, skipped: 1, wantFailureInCase: "a[euler]/seed=1", wantTier: "colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := sampleRun()
			r.Strict = tt.strict
			b, err := JUnit(r)
			if err != nil {
				t.Fatal(err)
			}
			var s reporters.JUnitTestSuites
			if err := xml.Unmarshal(b, &s); err != nil {
				t.Fatalf("junit does not parse: %v\n%s", err, b)
			}
			if s.Tests != 6 || s.Failures != tt.failures || s.Errors != tt.errors {
				t.Errorf("tests=%d failures=%d errors=%d, want 6/%d/%d", s.Tests, s.Failures, s.Errors, tt.failures, tt.errors)
			}
			skipped := 0
			found := false
			for _, ts := range s.TestSuites {
				skipped += ts.Skipped
				for _, tc := range ts.TestCases {
					if tc.Name == tt.wantFailureInCase {
						found = tc.Failure != nil && strings.Contains(tc.Failure.Message, tt.wantTier)
					}
				}
			}
			if skipped != tt.skipped {
				t.Errorf("skipped = %d, want %d", skipped, tt.skipped)
			}
			if !found {
				t.Errorf("no failure naming %q in case %s", tt.wantTier, tt.wantFailureInCase)
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	Terminal(&b, sampleRun(), "out/run-1")
	out := b.String()
	for _, want := range []string{
		"PASS   a/seed=1", "FAIL   a[euler]/seed=1", "colour.de_mean 3 >  2", "ERROR  b/seed=1",
		"connection refused", "SKIP", "6 cases: 1 pass, 1 pass~, 1 fail, 1 error, 1 new, 1 skip",
		"regen golden approve --from-run out/run-1", "local.ratio 0.001 <= 0.01",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestWorse(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, b, want Verdict }{
		{"", Pass, Pass}, {Pass, "", Pass}, {Pass, PassApprox, PassApprox}, {Fail, New, Fail},
		{Error, Fail, Error}, {Skip, Pass, Pass}, {New, PassApprox, New},
	}
	for _, tt := range tests {
		t.Run(string(tt.a)+"+"+string(tt.b), func(t *testing.T) {
			if got := Worse(tt.a, tt.b); got != tt.want {
				t.Errorf("Worse(%q,%q) = %q, want %q", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestCaseProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Case
		want string
	}{
		{name: "replay error wins", c: Case{Error: "replay: connection refused", Reason: "x"}, want: "replay: connection refused"},
		{name: "unjudgeable output", c: Case{Reason: "golden record does not match its image"}, want: "golden record does not match its image"},
		{name: "nothing", c: Case{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.Problem(); got != tt.want {
				t.Errorf("Problem() = %q, want %q", got, tt.want)
			}
			var b bytes.Buffer
			Terminal(&b, &Run{Cases: []Case{{ID: "a/seed=1", Verdict: Error, Error: tt.c.Error, Reason: tt.c.Reason}}}, "out")
			if tt.want != "" && !strings.Contains(b.String(), tt.want) {
				t.Errorf("terminal line lacks %q:\n%s", tt.want, b.String())
			}
		})
	}
}
