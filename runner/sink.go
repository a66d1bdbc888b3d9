package runner

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/regen-dev/regen/runner/htmlreport"
	"github.com/regen-dev/regen/runner/report"
)

// Sink receives a finished run (also one that failed part-way): the report
// writers and the history store alike. Run gives the record to each sink
// of Options.Sinks in order, so a sink may annotate the record for the ones
// after it (the history names, per failing case, where it last passed).
type Sink interface {
	// Name names the sink in errors and logs.
	Name() string
	// Consume takes the finished run; runDir is its report directory.
	Consume(ctx context.Context, runDir string, r *report.Run) error
	// Required says whether the sink's failure is the run's failure (an
	// infrastructure error, exit 2). A convenience (the HTML report) is
	// only logged.
	Required() bool
}

// FilesSink writes results.json, junit.xml and summary.txt (report.Write).
type FilesSink struct{}

var _ Sink = FilesSink{}

// Name is "report files".
func (FilesSink) Name() string { return "report files" }

// Required is true: a run without its record is not a run.
func (FilesSink) Required() bool { return true }

// Consume writes the files.
func (FilesSink) Consume(_ context.Context, runDir string, r *report.Run) error {
	return report.Write(runDir, r)
}

// HTMLSink renders report.html from the files FilesSink wrote.
type HTMLSink struct {
	Logger *slog.Logger
}

var _ Sink = HTMLSink{}

// Name is "html report".
func (HTMLSink) Name() string { return "html report" }

// Required is false: failing to render never changes the outcome.
func (HTMLSink) Required() bool { return false }

// Consume renders the report.
func (h HTMLSink) Consume(ctx context.Context, runDir string, _ *report.Run) error {
	return htmlreport.Write(context.WithoutCancel(ctx), runDir, htmlreport.Options{Logger: h.Logger})
}

// DefaultSinks are the report writers every run has: the files, then the
// HTML report.
func DefaultSinks(logger *slog.Logger) []Sink {
	return []Sink{FilesSink{}, HTMLSink{Logger: logger}}
}

// deliver gives r to every sink in order; it returns the required sinks'
// errors and logs the others'.
func deliver(ctx context.Context, sinks []Sink, runDir string, r *report.Run, log *slog.Logger) error {
	var errs []error
	for _, s := range sinks {
		if err := s.Consume(ctx, runDir, r); err != nil {
			if s.Required() {
				errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
				continue
			}
			log.Warn(s.Name(), "err", err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("%w (and %d more sink errors)", errs[0], len(errs)-1)
}
