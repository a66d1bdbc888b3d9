package app

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/report"
)

func goldenCommand() command {
	return command{summary: "manage goldens: approve a finished run's candidates", run: runGolden}
}

func runGolden(ctx context.Context, s Streams, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(s.Out, "Usage: regen golden approve [--from-run DIR] [--filter REGEX] [--golden-dir DIR]")
		fmt.Fprintln(s.Out, "\n  approve   promote the new and failed outputs of a finished run to goldens")
		if len(args) == 0 {
			return &usageError{msg: "golden: no subcommand given", hint: "regen golden approve --from-run out/run-<timestamp>"}
		}
		return nil
	}
	switch args[0] {
	case "approve":
		return goldenApprove(ctx, s, args[1:])
	}
	return &usageError{msg: fmt.Sprintf("golden: unknown subcommand %q", args[0]), hint: "regen golden approve --help"}
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
		fmt.Fprintln(s.Err, "Usage: regen golden approve [--from-run DIR] [--filter REGEX] [--golden-dir DIR]")
		fmt.Fprintln(s.Err, "\nPromotes the candidates of a finished run (cases with verdict new or fail) to goldens.")
		fmt.Fprintln(s.Err, "A golden that passed is never rewritten; every write is atomic.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
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
	if root == "" {
		root = run.GoldenDir
	}
	if root == "" {
		root = "golden"
	}
	store := golden.Store{Root: root, Class: run.Environment}
	cands := runner.Candidates(run, dir)
	acts, err := store.Approve(cands, re)
	counts := map[string]int{}
	for _, a := range acts {
		counts[a.Op]++
		fmt.Fprintln(s.Out, a.String())
	}
	fmt.Fprintf(s.Out, "golden approve: %d created, %d updated, %d removed, %d unchanged, %d kept (passed), %d skipped in %s\n",
		counts["created"], counts["updated"], counts["removed"], counts["unchanged"], counts["kept"], counts["skipped"], store.Dir())
	if err != nil {
		return fmt.Errorf("golden approve: %w", err)
	}
	if len(acts) == 0 {
		fmt.Fprintln(s.Out, "golden approve: nothing selected (check --filter)")
	}
	return nil
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
