//go:build !regenfast

package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/images"
	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/factory"
	"github.com/regen-dev/regen/runner/target/local"
)

func runCommand() command {
	return command{summary: "replay the suite's workflows and judge every output against its golden", run: runRun}
}

// runFlags are `regen run`'s flags.
type runFlags struct {
	target       targetFlags
	suite        string
	profile      string
	filter       string
	labels       []string
	seeds        string
	concurrency  int
	retries      int
	report       string
	goldenDir    string
	class        string
	goldenClass  string
	strict       bool
	timeout      time.Duration
	verbose      bool
	quiet        bool
	list         bool
	goldenDirSet bool
	timeoutSet   bool // --timeout was given: it bounds every case over the suite's
	history      string
	images       string
}

func runRun(ctx context.Context, s Streams, args []string) error {
	return runWithTarget(ctx, s, args, nil)
}

// runWithTarget is `regen run`; tgt, when non-nil, replaces the target the
// flags describe (tests inject a fault-injected local executor).
func runWithTarget(ctx context.Context, s Streams, args []string, tgt target.Target) error {
	var f runFlags
	fs := newFlagSet("run", s)
	f.target.bind(fs)
	fs.StringVar(&f.suite, "suite", "fixtures/suite.yaml", "suite file")
	fs.StringVar(&f.profile, "profile", "", "suite profile (its model aliases, inputs, thresholds), e.g. comfyui-sd15 (default: the profile the suite marks for the target's kind — regen-executor or comfyui — else the suite's top-level fields)")
	fs.StringVar(&f.filter, "filter", "", "run only cases whose id (<workflow>[<variant>]/seed=<n>) matches this regular expression")
	fs.Func("label", "run only cases carrying this suite label (e.g. smoke, txt2img, wf-<workflow>; repeat or comma-separate for any of several; regen run --list shows each case's labels)", func(v string) error {
		for _, l := range strings.Split(v, ",") {
			if l = strings.TrimSpace(l); l != "" {
				f.labels = append(f.labels, l)
			}
		}
		return nil
	})
	fs.StringVar(&f.seeds, "seeds", "", "comma-separated seeds replacing the suite's (e.g. 1,2)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "cases in flight (default: one per endpoint)")
	fs.IntVar(&f.retries, "retries", 1, "replay a case again this many times after an infrastructure failure (never after a verdict)")
	fs.StringVar(&f.report, "report", "", "report directory (default out/run-<timestamp>)")
	fs.StringVar(&f.goldenDir, "golden-dir", "golden", "golden root; goldens live in <dir>/<environment>/")
	fs.StringVar(&f.class, "class", "", "environment class of the goldens to judge against (default: the suite's environment)")
	fs.StringVar(&f.goldenClass, "golden-class", "", "judge the target against this class's goldens (e.g. cpu) although it is of another class, with the thresholds calibrated for the pair (regen golden calibrate --against CLASS); a golden without them is an error, never judged with bit-exact thresholds")
	fs.BoolVar(&f.strict, "strict", false, "treat pass~ (not bit-identical) as a regression (default: the suite's lane of the target's class)")
	fs.DurationVar(&f.timeout, "timeout", 0, "per-case replay timeout, over the suite's timeout: (default: the suite's, else 5m)")
	fs.StringVar(&f.history, "history", historyDefault(), "record the run in this history store: a SQLite file (created if missing) or postgres://user@host/db (default $"+HistoryEnv+", else none)")
	fs.StringVar(&f.images, "history-images", "", "with --history: keep every output PNG in this folder, content-addressed (regen history prune applies retention)")
	fs.BoolVar(&f.list, "list", false, "list the planned cases (id, labels) without running them, under the profile a run would pick (a --url is asked what it is; a cluster --env is not deployed)")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs")
	fs.BoolVar(&f.quiet, "q", false, "no progress lines, only the summary")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: regen run [--env local | --url URL] [--suite FILE] [--profile NAME] [--filter REGEX] [--seeds 1,2]")
		fmt.Fprintln(fs.Output(), "                 [--concurrency N] [--report DIR] [--golden-dir DIR] [--strict] [--timeout D]")
		fmt.Fprintln(fs.Output(), "\nReplays every case of the suite and judges each output against its golden.")
		fmt.Fprintln(fs.Output(), "Exit 0: all pass (pass~ too, unless --strict); 1: a regression; 2: harness or infrastructure error.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("run: unexpected argument %q", fs.Arg(0)), hint: "regen run --help"}
	}
	f.target.parsed(fs)
	fs.Visit(func(fl *flag.Flag) {
		f.goldenDirSet = f.goldenDirSet || fl.Name == "golden-dir"
		f.timeoutSet = f.timeoutSet || fl.Name == "timeout"
	})
	return f.execute(ctx, s, tgt)
}

// listProfile picks the suite profile for run --list as a run would on
// tgt: --profile if given; else by the kind of server tgt is. The local
// target is regen-executor; a --url is asked (GET /system_stats, as a run
// asks it); a cluster environment is not deployed to be asked, so its
// profile is the default, said to be unresolved.
func listProfile(ctx context.Context, st *suite.Suite, name string, tgt target.Target) (suite.Selected, error) {
	kind, unresolved := "", ""
	if name == "" {
		switch t := tgt.(type) {
		case *local.Target:
			kind = suite.TargetRegenExecutor
		case *target.URL:
			fp, err := t.Fingerprint(ctx)
			if err != nil {
				return suite.Selected{}, fmt.Errorf("run --list: ask %s what it is, to pick the suite's profile for it: %w (name one with --profile to list without asking)", t.Describe(), err)
			}
			kind = runner.TargetKind(fp)
		default:
			unresolved = "not resolved: --list does not deploy " + tgt.Describe() + " to ask what it is; a run picks the suite's profile for the kind it reports, --profile names one"
		}
	}
	prof, err := st.SelectProfile(name, kind)
	if err != nil {
		return suite.Selected{}, fmt.Errorf("run --list: %w", err)
	}
	if unresolved != "" {
		prof.Reason = unresolved
	}
	return prof, nil
}

// execute runs with parsed flags on tgt, or on the target they describe.
func (f *runFlags) execute(ctx context.Context, s Streams, tgt target.Target) error {
	var filter *regexp.Regexp
	if f.filter != "" {
		var err error
		if filter, err = regexp.Compile(f.filter); err != nil {
			return &usageError{msg: fmt.Sprintf("run: bad --filter: %v", err)}
		}
	}
	seeds, err := parseSeeds(f.seeds)
	if err != nil {
		return &usageError{msg: "run: " + err.Error(), hint: "regen run --seeds 1,2"}
	}
	if f.concurrency < 0 || f.retries < 0 {
		return &usageError{msg: "run: --concurrency and --retries must be >= 0"}
	}
	if (f.timeoutSet || f.timeout != 0) && f.timeout <= 0 {
		// An explicit --timeout bounds every case over the suite's
		// timeout:; 0 or less would silently mean "the suite's".
		return &usageError{msg: fmt.Sprintf("run: --timeout %v: want a positive duration", f.timeout), hint: "leave --timeout out for the suite's timeout (else 5m)"}
	}
	runDir := f.report
	if runDir == "" {
		runDir = "out/run-" + time.Now().UTC().Format("20060102-150405")
	}
	logger := newLogger(s.Err, f.verbose, f.quiet)
	var notify io.Writer
	if !f.quiet {
		notify = s.Err
	}
	topts, err := f.target.options("run", runDir, logger, notify)
	if err != nil {
		return err
	}
	if tgt == nil {
		if tgt, err = factory.New(topts); err != nil {
			return &usageError{msg: "run: " + err.Error(), hint: "regen run --env local"}
		}
	}
	st, err := suite.Load(f.suite)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if f.profile != "" {
		if _, err := st.SelectProfile(f.profile, ""); err != nil {
			return &usageError{msg: "run: --profile: " + err.Error(), hint: "regen run --profile " + st.ProfileNames()[len(st.ProfileNames())-1]}
		}
	}
	if f.list {
		prof, err := listProfile(ctx, st, f.profile, tgt)
		if err != nil {
			return err
		}
		return listCases(s, st, prof, filter, seeds, f.labels)
	}
	if f.goldenDirSet {
		if _, err := os.Stat(f.goldenDir); err != nil {
			return &usageError{msg: fmt.Sprintf("run: --golden-dir %s does not exist (mistyped?)", f.goldenDir),
				hint: "mkdir -p " + f.goldenDir + " to start a new golden set, or leave --golden-dir out (default golden)"}
		}
	}
	cleared, err := runner.PrepareRunDir(runDir)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if len(cleared) > 0 && !f.quiet {
		fmt.Fprintf(s.Err, "report: %s held an earlier run; removed its %s\n", runDir, strings.Join(cleared, ", "))
	}
	done := 0
	class, cross := f.class, false
	if f.goldenClass != "" {
		class, cross = f.goldenClass, true
	}
	opts := runner.Options{
		Suite: st, SuitePath: f.suite, Class: class, CrossClass: cross, Target: tgt, TargetClass: f.class, GoldenDir: f.goldenDir, RunDir: runDir,
		Filter: filter, Seeds: seeds, Labels: f.labels, Concurrency: f.concurrency, Retries: f.retries, Strict: f.strict, Timeout: f.timeout,
		Logger: logger, Profile: f.profile,
	}
	if !f.quiet {
		opts.Notify = func(msg string) { fmt.Fprintln(s.Err, msg) }
		opts.OnCase = func(c report.Case) {
			done++
			fmt.Fprintf(s.Err, "[%d] %-6s %s (%.1fs)\n", done, strings.ToUpper(string(c.Verdict)), c.ID, c.TotalSeconds)
		}
	}
	if f.history != "" {
		// Opened before the run: a store that is corrupt, newer or
		// unreachable fails the run at once (exit 2), not after it.
		hs, err := openHistory(ctx, f.history, true)
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		defer hs.Close()
		rec := &history.Recorder{Store: hs, Order: firstParent(".", "HEAD"), Logger: logger, BuildCommit: buildCommit()}
		if f.images != "" {
			rec.Images = &images.Store{Dir: f.images}
		}
		opts.Sinks = append([]runner.Sink{rec}, runner.DefaultSinks(logger)...)
	}
	rec, err := runner.Run(ctx, opts)
	if rec != nil && len(rec.Cases) > 0 {
		report.Terminal(s.Out, rec, runDir)
	}
	fmt.Fprintf(s.Out, "report: %s (summary.txt, report.html, results.json, junit.xml, candidates/)\n", runDir)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return outcomeError(rec, runDir)
}

// outcomeError maps a finished run to regen's exit codes: a regression is
// exit 1 (ErrRegression) even when other cases also had infrastructure
// problems (they are listed too); otherwise errors and missing goldens are
// exit 2.
func outcomeError(rec *report.Run, runDir string) error {
	regs, infra := runner.Outcome(rec)
	var b strings.Builder
	if len(infra) > 0 {
		fmt.Fprintf(&b, "%s could not be judged:", plural(len(infra), "case", "cases"))
		missing := false
		for i, p := range infra {
			if i < 20 {
				b.WriteString("\n  - " + p)
			}
			missing = missing || strings.HasSuffix(p, ": no golden")
		}
		if len(infra) > 20 {
			fmt.Fprintf(&b, "\n  … and %d more (see the summary above)", len(infra)-20)
		}
		if missing {
			fmt.Fprintf(&b, "\nReview the candidates in %s/%s, then run `regen golden approve --from-run %s`", runDir, runner.CandidatesDir, runDir)
		}
	}
	if len(regs) > 0 {
		shown := regs
		more := ""
		if len(shown) > 10 {
			shown, more = shown[:10], fmt.Sprintf(", and %d more", len(regs)-10)
		}
		msg := fmt.Sprintf("%s regressed: %s%s", plural(len(regs), "case", "cases"), strings.Join(shown, ", "), more)
		if b.Len() > 0 {
			msg += "\n" + b.String()
		}
		return fmt.Errorf("%w: %s (details: %s)", ErrRegression, msg, runDir)
	}
	if b.Len() > 0 {
		return errors.New(b.String())
	}
	return nil
}

func parseSeeds(s string) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(part), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad --seeds %q: want comma-separated non-negative integers", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// newLogger returns the CLI's logger: warnings by default, debug with -v,
// nothing with -q.
func newLogger(w io.Writer, verbose, quiet bool) *slog.Logger {
	if quiet {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// listCases prints the plan (made offline with the suite's object_info
// capture, and the profile named, else the default: no target is asked
// what it is): one line per case with its labels, and why a case cannot run.
func listCases(s Streams, st *suite.Suite, prof suite.Selected, filter *regexp.Regexp, seeds []uint64, labels []string) error {
	fmt.Fprintf(s.Err, "profile: %s (%s)\n", prof.Name, prof.Reason)
	cases := plan.Build(st, plan.Options{Filter: filter, Seeds: seeds, Labels: labels, Profile: &prof})
	bad := 0
	for _, c := range cases {
		note := ""
		switch {
		case c.Skip != "":
			note = "  (skip: " + c.Skip + ")"
		case c.Err != nil:
			note = "  (error: " + strings.Join(strings.Fields(c.Err.Error()), " ") + ")"
			bad++
		}
		fmt.Fprintf(s.Out, "%s  [%s]%s\n", c.ID, strings.Join(c.Labels, ", "), note)
	}
	fmt.Fprintln(s.Out, plural(len(cases), "case", "cases"))
	if bad > 0 {
		return fmt.Errorf("run --list: %s cannot be planned", plural(bad, "case", "cases"))
	}
	return nil
}
