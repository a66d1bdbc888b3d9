//go:build !regenfast

package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/regen-dev/regen/runner/htmlreport"
)

func reportCommand() command {
	return command{summary: "regenerate a finished run's reports (html); history.html from the history store", run: runReport}
}

func runReport(ctx context.Context, s Streams, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(s.Out, "Usage: regen report html RUN_DIR [--out FILE] [--golden-base DIR]")
		fmt.Fprintln(s.Out, "\nCommands:\n  html     write the self-contained HTML report (report.html) of a finished run")
		fmt.Fprintln(s.Out, "  history  write history.html from the history store (regen report history --help)")
		fmt.Fprintln(s.Out, "\nExamples:\n  regen report html out/r1")
		fmt.Fprintln(s.Out, "\nFlags: regen report html -h")
		if len(args) == 0 {
			return &usageError{msg: "report: no subcommand given", hint: "regen report html out/run-<timestamp>"}
		}
		return nil
	}
	switch args[0] {
	case "html":
		return reportHTML(ctx, s, args[1:])
	case "history":
		return reportHistory(ctx, s, args[1:])
	}
	return &usageError{msg: fmt.Sprintf("report: unknown subcommand %q", args[0]), hint: "regen report html --help"}
}

func reportHTML(ctx context.Context, s Streams, args []string) error {
	var out, goldenBase string
	fs := newFlagSet("report html", s)
	fs.StringVar(&out, "out", "", "output file (default RUN_DIR/report.html)")
	fs.StringVar(&goldenBase, "golden-base", "", "directory the run's relative golden paths resolve against when they do not exist from here (default: where regen ran)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: regen report html RUN_DIR [--out FILE] [--golden-base DIR]")
		fmt.Fprintln(fs.Output(), "\nWrites one self-contained HTML file (images embedded) from RUN_DIR/results.json.")
		fs.PrintDefaults()
	}
	// The run directory may come before, between or after the flags.
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	var dir string
	if len(rest) > 0 {
		dir, rest = rest[0], rest[1:]
	}
	if dir == "" {
		latest, err := latestRun("report html", "regen report html RUN_DIR")
		if err != nil {
			return err
		}
		dir = latest
	}
	if len(rest) > 0 {
		return &usageError{msg: fmt.Sprintf("report html: unexpected argument %q", rest[0]), hint: "regen report html RUN_DIR [--out FILE]"}
	}
	warn := func(msg string) { fmt.Fprintln(s.Err, "report html: warning:", msg) }
	if err := htmlreport.Write(ctx, dir, htmlreport.Options{Out: out, GoldenBase: goldenBase, Warn: warn}); err != nil {
		return fmt.Errorf("report html: %w (is %s a finished `regen run` report dir?)", err, dir)
	}
	if out == "" {
		out = filepath.Join(dir, htmlreport.File)
	}
	fmt.Fprintln(s.Out, "report:", out)
	return nil
}
