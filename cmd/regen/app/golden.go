//go:build !regenfast

package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/report"
)

func goldenCommand() command {
	return command{summary: "manage goldens: approve a finished run's candidates, calibrate thresholds, show a record", run: runGolden}
}

func runGolden(ctx context.Context, s Streams, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(s.Out, "Usage: regen golden approve [--from-run DIR] [--filter REGEX] [--golden-dir DIR]")
		fmt.Fprintln(s.Out, "       regen golden calibrate [--runs N] [--filter REGEX] [--against CLASS] [target flags]")
		fmt.Fprintln(s.Out, "       regen golden show CASE [--class CLASS] [--golden-dir DIR]")
		fmt.Fprintln(s.Out, "\nCommands:\n  approve   promote the new and failed outputs of a finished run to goldens")
		fmt.Fprintln(s.Out, "  calibrate measure a target's benign spread per case, set thresholds from it, prove them with positive controls")
		fmt.Fprintln(s.Out, "  show      print a case's golden records: thresholds, calibrations and their evidence")
		fmt.Fprintln(s.Out, "\nExamples:\n  regen golden approve --from-run out/r1 --filter 'img2img'")
		fmt.Fprintln(s.Out, "  regen golden calibrate --backend cuda-emulated --nondeterministic --runs 5")
		fmt.Fprintln(s.Out, "  regen golden show 'txt2img-gmm[euler]/seed=1' --class cuda-emulated-nondet")
		fmt.Fprintln(s.Out, "\nFlags: regen golden <command> -h")
		if len(args) == 0 {
			return &usageError{msg: "golden: no subcommand given", hint: "regen golden approve --from-run out/run-<timestamp>"}
		}
		return nil
	}
	switch args[0] {
	case "approve":
		return goldenApprove(ctx, s, args[1:])
	case "calibrate":
		return goldenCalibrate(ctx, s, args[1:])
	case "show":
		return goldenShow(ctx, s, args[1:])
	}
	return &usageError{msg: fmt.Sprintf("golden: unknown subcommand %q", args[0]), hint: "regen golden --help"}
}

// approveFlags are `regen golden approve`'s flags.
type approveFlags struct {
	fromRun   string
	filter    string
	goldenDir string
}

func goldenApprove(ctx context.Context, s Streams, args []string) error {
	var f approveFlags
	fs := newFlagSet("golden approve", s)
	fs.StringVar(&f.fromRun, "from-run", "", "the finished run's report directory (default: the newest out/run-*)")
	fs.StringVar(&f.filter, "filter", "", "approve only cases whose id matches this regular expression")
	fs.StringVar(&f.goldenDir, "golden-dir", "", "golden root (default: the run's golden dir, else golden)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: regen golden approve [--from-run DIR] [--filter REGEX] [--golden-dir DIR]")
		fmt.Fprintln(fs.Output(), "\nPromotes the candidates of a finished run (cases with verdict new or fail) to goldens.")
		fmt.Fprintln(fs.Output(), "A golden that passed is never rewritten; every write is atomic.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("golden approve: unexpected argument %q", fs.Arg(0)), hint: "regen golden approve --from-run DIR"}
	}
	var re *regexp.Regexp
	if f.filter != "" {
		var err error
		if re, err = regexp.Compile(f.filter); err != nil {
			return &usageError{msg: fmt.Sprintf("golden approve: bad --filter: %v", err)}
		}
	}
	dir := f.fromRun
	if dir == "" {
		latest, err := latestRun("golden approve", "regen golden approve --from-run DIR")
		if err != nil {
			return err
		}
		dir = latest
	}
	run, err := report.Read(dir)
	if err != nil {
		return fmt.Errorf("golden approve: %w (is %s a finished `regen run` report dir?)", err, dir)
	}
	root := f.goldenDir
	if root != "" {
		if _, err := os.Stat(root); err != nil {
			return &usageError{msg: fmt.Sprintf("golden approve: --golden-dir %s does not exist (mistyped?)", root),
				hint: "mkdir -p " + root + " to start a new golden set, or leave --golden-dir out to use the run's (" + orDefault(run.GoldenDir, "golden") + ")"}
		}
	}
	if root == "" {
		root = orDefault(run.GoldenDir, "golden")
	}
	store := golden.Store{Root: root, Class: run.Environment}
	cands := runner.Candidates(run, dir)
	counts := map[string]int{}
	progress := func(done, total int, a golden.Action) {
		counts[a.Op]++
		switch a.Op {
		case "kept", "unchanged":
			// Counted in the summary: nothing changed.
		default:
			fmt.Fprintf(s.Out, "[%*d/%d] %s\n", len(strconv.Itoa(total)), done, total, a)
		}
	}
	acts, err := store.Approve(cands, re, golden.WithProgress(progress))
	if len(acts) == 0 && err == nil {
		if re == nil {
			fmt.Fprintf(s.Out, "golden approve: the run %s has no output to approve\n", dir)
			return nil
		}
		return &usageError{msg: fmt.Sprintf("golden approve: no case of %s matches --filter %q", dir, f.filter),
			hint: "regen golden approve --from-run " + dir + " (without --filter it approves every new or failed case)"}
	}
	changed := counts["created"] + counts["updated"] + counts["removed"]
	switch {
	case changed == 0 && counts["refused"] == 0 && counts["skipped"] == 0:
		fmt.Fprintf(s.Out, "golden approve: nothing to approve in %s (%s, %s)\n", store.Dir(),
			plural(counts["kept"], "golden", "goldens")+" passed and kept", plural(counts["unchanged"], "golden", "goldens")+" already up to date")
	default:
		fmt.Fprintf(s.Out, "golden approve: %d created, %d updated, %d removed, %d unchanged, %d kept (passed), %d skipped, %d refused in %s\n",
			counts["created"], counts["updated"], counts["removed"], counts["unchanged"], counts["kept"], counts["skipped"], counts["refused"], store.Dir())
	}
	if err != nil {
		return fmt.Errorf("golden approve: %w", err)
	}
	if n := counts["refused"]; n > 0 {
		return fmt.Errorf("golden approve: %s refused: the PNG does not hold the pixels its record describes (was the run directory edited?)",
			plural(n, "candidate", "candidates"))
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// latestRun returns the newest out/run-* directory holding results, for
// cmd ("golden approve") when it is given no run directory; hint says how
// to give one.
func latestRun(cmd, hint string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join("out", "run-*", report.ResultsFile))
	if len(matches) == 0 {
		return "", &usageError{msg: cmd + ": no finished run under out/", hint: "regen run, then " + hint}
	}
	// run-<timestamp> names sort chronologically.
	return filepath.Dir(slices.Max(matches)), nil
}
