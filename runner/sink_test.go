package runner_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target/local"

	"github.com/regen-dev/regen/internal/testutil"
)

// fakeSink records what it was given and fails with err.
type fakeSink struct {
	name     string
	required bool
	err      error
	got      *report.Run
	order    *[]string
}

func (f *fakeSink) Name() string   { return f.name }
func (f *fakeSink) Required() bool { return f.required }
func (f *fakeSink) Consume(_ context.Context, _ string, r *report.Run) error {
	f.got = r
	*f.order = append(*f.order, f.name)
	return f.err
}

func TestSinksGetTheRunAndARequiredFailureIsTheRunsError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		required bool
		wantErr  bool
	}{
		{"a required sink that fails fails the run", true, true},
		{"an optional sink that fails is only logged", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := suite.Load(imgSuite)
			if err != nil {
				t.Fatal(err)
			}
			var order []string
			boom := errors.New("boom")
			first := &fakeSink{name: "first", required: tt.required, err: boom, order: &order}
			second := &fakeSink{name: "second", required: true, order: &order}
			runDir := filepath.Join(t.TempDir(), "run")
			goldenDir := goldens(t)
			rec, err := runner.Run(context.Background(), runner.Options{
				Suite: s, SuitePath: imgSuite, GoldenDir: goldenDir, RunDir: runDir, Logger: testutil.Logger(), Retries: 3,
				Target: local.New(local.Options{Models: emptyModels(t), WorkDir: runDir, Logger: testutil.Logger()}),
				Sinks:  []runner.Sink{first, second, runner.FilesSink{}},
			})
			if (err != nil) != tt.wantErr || (tt.wantErr && !errors.Is(err, boom)) {
				t.Fatalf("run error = %v, want error %v", err, tt.wantErr)
			}
			if len(order) != 2 || order[0] != "first" || first.got != rec || second.got != rec {
				t.Errorf("sinks called %v with %p %p, want first, second with the record %p", order, first.got, second.got, rec)
			}
			if regs, _ := runner.Outcome(rec); len(regs) != 0 || rec.SuiteHash == "" {
				t.Errorf("record: regressions %v, suite hash %q", regs, rec.SuiteHash)
			}
			if _, err := report.Read(runDir); err != nil {
				t.Errorf("the files sink after a failing one still wrote: %v", err)
			}
		})
	}
}
