//go:build !regenfast

package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/calibrate"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/factory"
)

// calibrateFlags are `regen golden calibrate`'s flags.
type calibrateFlags struct {
	target    targetFlags
	suite     string
	profile   string
	filter    string
	runs      int
	against   string
	class     string
	goldenDir string
	workDir   string
	timeout   time.Duration
	dryRun    bool
	verbose   bool
	quiet     bool
}

func goldenCalibrate(ctx context.Context, s Streams, args []string) error {
	return calibrateWithTarget(ctx, s, args, nil)
}

// calibrateWithTarget is `regen golden calibrate`; tgt, when non-nil,
// replaces the target the flags describe (tests).
func calibrateWithTarget(ctx context.Context, s Streams, args []string, tgt target.Target) error {
	var f calibrateFlags
	fs := newFlagSet("golden calibrate", s)
	f.target.bind(fs)
	fs.StringVar(&f.suite, "suite", "fixtures/suite.yaml", "suite file")
	fs.StringVar(&f.profile, "profile", "", "suite profile (as for regen run)")
	fs.StringVar(&f.filter, "filter", "", "calibrate only cases whose id matches this regular expression")
	fs.IntVar(&f.runs, "runs", 5, "replays per case (N); spread round-robin over the replicas (--replicas, or several endpoints)")
	fs.StringVar(&f.against, "against", "", "judge the target against this class's goldens (e.g. cpu) and store the thresholds for the pair in them (then: regen run --golden-class CLASS)")
	fs.StringVar(&f.class, "class", "", "environment class of a target that does not report one (a --url that is not regen-executor); regen-executor reports its own")
	fs.StringVar(&f.goldenDir, "golden-dir", "golden", "golden root; goldens live in <dir>/<class>/")
	fs.StringVar(&f.workDir, "work-dir", "", "folder for the local executors' files (default out/calibrate-<timestamp>)")
	fs.DurationVar(&f.timeout, "timeout", 0, "per-replay timeout, over the suite's timeout: (default: the suite's, else 5m)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "measure and report, write no record")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs")
	fs.BoolVar(&f.quiet, "q", false, "no progress lines, only the summary")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: regen golden calibrate [--runs N] [--filter REGEX] [--against CLASS] [--env local | --url URL] [--backend B]")
		fmt.Fprintln(fs.Output(), "\nReplays each case N times and measures every gated metric's benign spread against the case's")
		fmt.Fprintf(fs.Output(), "golden; sets each threshold at %g× its spread, never below its floor (the thresholds the golden was\n", calibrate.Factor)
		fmt.Fprintln(fs.Output(), "judged with before); then checks that every positive control still fails: "+strings.Join(calibrate.ControlNames(), ", ")+".")
		fmt.Fprintln(fs.Output(), "The thresholds and their evidence go into each golden's record, under the target's class.")
		fmt.Fprintln(fs.Output(), "Exit 0: every case calibrated; 1: a case is uncalibratable (a control passes: swallowed by the spread,")
		fmt.Fprintln(fs.Output(), "or missed even at the floors; nothing written for it); 2: a replay failed, a golden is missing, or bad usage.")
		fmt.Fprintln(fs.Output(), "\nExamples:")
		fmt.Fprintln(fs.Output(), "  regen golden calibrate --backend cuda-emulated --nondeterministic --runs 5")
		fmt.Fprintln(fs.Output(), "  regen golden calibrate --backend cuda-emulated --against cpu --filter txt2img")
		fmt.Fprintln(fs.Output(), "  regen golden calibrate --url http://gpu:8188 --class cuda-h100 --runs 20")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("golden calibrate: unexpected argument %q", fs.Arg(0)), hint: "regen golden calibrate --help"}
	}
	f.target.parsed(fs)
	timeoutSet := false
	fs.Visit(func(fl *flag.Flag) { timeoutSet = timeoutSet || fl.Name == "timeout" })
	if (timeoutSet || f.timeout != 0) && f.timeout <= 0 {
		return &usageError{msg: fmt.Sprintf("golden calibrate: --timeout %v: want a positive duration", f.timeout), hint: "leave --timeout out for the suite's timeout (else 5m)"}
	}
	if f.runs < 1 {
		return &usageError{msg: "golden calibrate: --runs must be >= 1", hint: "regen golden calibrate --runs 5"}
	}
	var filter *regexp.Regexp
	if f.filter != "" {
		var err error
		if filter, err = regexp.Compile(f.filter); err != nil {
			return &usageError{msg: fmt.Sprintf("golden calibrate: bad --filter: %v", err)}
		}
	}
	workDir := f.workDir
	if workDir == "" {
		workDir = "out/calibrate-" + time.Now().UTC().Format("20060102-150405")
	}
	logger := newLogger(s.Err, f.verbose, f.quiet)
	topts, err := f.target.options("golden calibrate", workDir, logger, nil)
	if err != nil {
		return err
	}
	if tgt == nil {
		if tgt, err = factory.New(topts); err != nil {
			return &usageError{msg: "golden calibrate: " + err.Error(), hint: "regen golden calibrate --env local"}
		}
	}
	st, err := suite.Load(f.suite)
	if err != nil {
		return fmt.Errorf("golden calibrate: %w", err)
	}
	opts := runner.Options{
		Suite: st, SuitePath: f.suite, Target: tgt, GoldenDir: f.goldenDir, RunDir: workDir, Filter: filter,
		Timeout: f.timeout, Logger: logger, Profile: f.profile, TargetClass: f.class,
	}
	switch {
	case f.against != "":
		opts.Class, opts.CrossClass = f.against, true
	case f.class != "":
		opts.Class = f.class
	default:
		opts.ClassFromTarget = true
	}
	sess, err := runner.Start(ctx, opts)
	if sess != nil {
		defer sess.Close()
	} else {
		defer tgt.Close()
	}
	if err != nil {
		return fmt.Errorf("golden calibrate: %w", err)
	}
	cases := sess.Plan()
	if len(cases) == 0 {
		return &usageError{msg: fmt.Sprintf("golden calibrate: no case matches --filter %q", f.filter), hint: "regen run --list"}
	}
	if !f.quiet {
		fmt.Fprintf(s.Err, "calibrating %s: target class %s against %s, N=%d on %s\n",
			plural(len(cases), "case", "cases"), sess.TargetClass(), sess.Store().Dir(), f.runs, plural(sess.Endpoints(), "endpoint", "endpoints"))
	}
	done := 0
	rep, err := calibrate.Run(ctx, calibrate.Options{
		Session: sess, Cases: cases, Runs: f.runs, DryRun: f.dryRun, Logger: logger,
		OnCase: func(c calibrate.Case) {
			done++
			if !f.quiet {
				fmt.Fprintf(s.Err, "[%d/%d] %s %s\n", done, len(cases), caseStatus(c), c.ID)
			}
		},
	})
	if rep != nil {
		writeReport(s.Out, rep)
	}
	if err != nil {
		return fmt.Errorf("golden calibrate: %w", err)
	}
	ok, uncal, errs, _ := rep.Counts()
	var problems []string
	for _, c := range rep.Cases {
		if c.Error != "" {
			problems = append(problems, c.ID+": "+c.Error)
		}
	}
	switch {
	case uncal > 0:
		extra := ""
		if errs > 0 {
			extra = "\n" + strings.Join(problems, "\n")
		}
		return fmt.Errorf("golden calibrate: %w: %s: a positive control passes (swallowed by the spread, or missed even at the floors), so no threshold separates it from benign noise; nothing was written for %s (%d calibrated)%s",
			ErrUncalibratable, plural(uncal, "case", "cases"), pronoun(uncal), ok, extra)
	case errs > 0:
		return fmt.Errorf("golden calibrate: %s could not be calibrated:\n  - %s", plural(errs, "case", "cases"), strings.Join(problems, "\n  - "))
	}
	return nil
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// caseStatus is a calibrated case's status word.
func caseStatus(c calibrate.Case) string {
	switch {
	case c.Skip != "":
		return "SKIP"
	case c.Error != "":
		return "ERROR"
	case c.Uncalibratable():
		return "UNCALIBRATABLE"
	}
	return "CALIBRATED"
}

// writeReport prints a calibration: per case its status, per output the
// thresholds it widened and every control, then the totals.
func writeReport(w io.Writer, rep *calibrate.Report) {
	for _, c := range rep.Cases {
		fmt.Fprintf(w, "%-14s %s\n", caseStatus(c), c.ID)
		switch {
		case c.Skip != "":
			fmt.Fprintf(w, "  skip: %s\n", c.Skip)
			continue
		case c.Error != "":
			fmt.Fprintf(w, "  %s\n", c.Error)
			continue
		}
		for _, o := range c.Outputs {
			cal := o.Calibration
			fmt.Fprintf(w, "  %s: %d replays; %s\n", o.File, cal.Runs, widened(cal))
			fmt.Fprintf(w, "    controls: %s\n", controlsLine(cal.Controls))
			if len(o.Swallowed) > 0 {
				fmt.Fprintf(w, "    swallowed by the spread: %s (they fail at the floors; nothing written)\n", strings.Join(o.Swallowed, ", "))
			}
			if len(o.Missed) > 0 {
				fmt.Fprintf(w, "    missed even at the floors: %s (the comparator cannot see them on this image; nothing written)\n", strings.Join(o.Missed, ", "))
			}
			if len(o.Swallowed)+len(o.Missed) > 0 {
				continue
			}
			if name, m := cal.SmallestMargin(); m > 0 {
				fmt.Fprintf(w, "    smallest control margin: %s %s×%s\n", name, fmtNum(m), writtenNote(o))
			}
		}
	}
	writeTable(w, rep)
	ok, uncal, errs, skipped := rep.Counts()
	fmt.Fprintf(w, "golden calibrate: %d calibrated, %d uncalibratable, %d error, %d skip (target class %s against the %s goldens, N=%d, thresholds at %g× the spread, never below their floors)\n",
		ok, uncal, errs, skipped, rep.Target, rep.Against, rep.Runs, rep.Factor)
}

func writtenNote(o calibrate.Output) string {
	if o.Written {
		return "; written to the record"
	}
	return "; not written (--dry-run)"
}

// widened lists the thresholds a calibration raised above their floors:
// "widened colour.mean_delta_e 0.3 → 0.52 (spread 0.26); the others at their floors".
func widened(cal *golden.Calibration) string {
	var parts []string
	for _, k := range compare.GatedMetrics() {
		v, _ := cal.Thresholds.Threshold(k)
		floor, _ := cal.Floors.Threshold(k)
		if v > floor {
			parts = append(parts, fmt.Sprintf("%s %s → %s (spread %s)", k, fmtNum(floor), fmtNum(v), fmtNum(cal.Spread[k])))
		}
	}
	if len(parts) == 0 {
		return "every threshold at its floor (each spread under 1/" + fmtNum(cal.Factor) + " of it)"
	}
	return "widened " + strings.Join(parts, ", ") + "; the others at their floors"
}

// controlsLine renders every control: "hue 3° 4.2× colour, ..., seed+1 n/a (...)".
func controlsLine(cs []golden.Control) string {
	var parts []string
	for _, c := range cs {
		switch {
		case c.Note != "":
			parts = append(parts, c.Name+" "+c.Note)
		case c.Verdict != string(compare.Fail):
			parts = append(parts, c.Name+" PASSED ("+c.Verdict+")")
		case c.Margin > 0:
			parts = append(parts, fmt.Sprintf("%s %s× [%s]", c.Name, fmtNum(c.Margin), strings.Join(c.Tripped, ", ")))
		default:
			parts = append(parts, fmt.Sprintf("%s fail [%s]", c.Name, strings.Join(c.Tripped, ", ")))
		}
	}
	return strings.Join(parts, "; ")
}

// fmtNum prints a number with 3 significant digits.
func fmtNum(v float64) string {
	if math.Abs(v) >= 1000 || v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// writeTable prints one row per calibrated output: the metric closest to
// its threshold (largest spread/threshold), its spread and threshold, and
// the control with the smallest margin.
func writeTable(w io.Writer, rep *calibrate.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\toutput\ttightest metric\tspread\tthreshold\tsmallest control margin\t")
	rows := 0
	for _, c := range rep.Cases {
		for _, o := range c.Outputs {
			cal := o.Calibration
			key, ratio := "", -1.0
			for _, k := range compare.GatedMetrics() {
				if v, _ := cal.Thresholds.Threshold(k); v > 0 && cal.Spread[k]/v > ratio {
					key, ratio = k, cal.Spread[k]/v
				}
			}
			th, _ := cal.Thresholds.Threshold(key)
			margin := "-"
			if name, m := cal.SmallestMargin(); m > 0 {
				margin = fmt.Sprintf("%s× (%s)", fmtNum(m), name)
			}
			if len(o.Swallowed)+len(o.Missed) > 0 {
				margin = "passed: " + strings.Join(append(append([]string{}, o.Swallowed...), o.Missed...), ", ")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", c.ID, o.File, key, fmtNum(cal.Spread[key]), fmtNum(th), margin)
			rows++
		}
	}
	if rows > 0 {
		_ = tw.Flush()
	}
}
