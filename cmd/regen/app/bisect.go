//go:build !regenfast

package app

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/regen-dev/regen/runner/bisect"
)

func bisectCommand() command {
	return command{summary: "find the first commit whose outputs differ from a good commit's (scratch clone, replays only the selected cases)", run: runBisect}
}

type bisectFlags struct {
	good, bad, filter, prepare, executor, suite, class, env, store, repo, work string
	strict                                                                     bool
	verbose                                                                    bool
}

func runBisect(ctx context.Context, s Streams, args []string) error {
	var f bisectFlags
	fs := newFlagSet("bisect", s)
	fs.StringVar(&f.good, "good", "", "a revision whose outputs are right (required)")
	fs.StringVar(&f.bad, "bad", "HEAD", "a revision whose outputs are wrong")
	fs.StringVar(&f.filter, "filter", "", "replay only the cases whose id matches (default: the cases that did not pass at --bad in the history, else all)")
	fs.StringVar(&f.prepare, "prepare", bisect.DefaultPrepare, "shell command that builds a candidate in its scratch tree; a candidate where it fails is skipped")
	fs.StringVar(&f.executor, "executor", bisect.DefaultExecutor, "command that starts a candidate's executor in its tree ({addr}, {port}, {output}, {input}, {temp} are filled in)")
	fs.StringVar(&f.suite, "suite", bisect.DefaultSuite, "suite file, relative to the repository")
	fs.StringVar(&f.class, "class", "", "environment class (default: the suite's)")
	fs.StringVar(&f.env, "env", "local", "where candidates run: local (the executor built in the scratch tree, as a child process)")
	fs.StringVar(&f.store, "history", historyDefault(), "history store: steps are recorded there and a rerun answers from it (default $"+HistoryEnv+", else none)")
	fs.StringVar(&f.repo, "repo", ".", "the repository (only read: candidates are checked out in a scratch clone)")
	fs.StringVar(&f.work, "work-dir", "", "keep the scratch clone, runs and executor logs in this folder (default: a temporary folder, removed)")
	fs.BoolVar(&f.strict, "strict", false, "count pass~ (not bit-identical) as bad")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs")
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: regen bisect --good REV [--bad REV] [--filter REGEX] [--prepare CMD] [--env local] [--history STORE]")
		fmt.Fprintln(s.Err, "\nChecks out candidates between --good and --bad in a scratch clone (never your working tree),")
		fmt.Fprintln(s.Err, "builds each with --prepare (a failure skips it, like `git bisect skip`), replays the selected cases")
		fmt.Fprintln(s.Err, "on its executor and judges them against the good commit's outputs. Prints the first bad commit.")
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return &usageError{msg: fmt.Sprintf("bisect: unexpected argument %q", rest[0]), hint: "regen bisect --good v1.2 --bad HEAD"}
	}
	if f.good == "" {
		return &usageError{msg: "bisect: --good is required", hint: "regen bisect --good <a commit whose outputs were right>"}
	}
	if f.env != "local" {
		return &usageError{msg: fmt.Sprintf("bisect: --env %s: candidates run on the executor built in the scratch tree (local); cluster environments are not supported by bisect", f.env),
			hint: "regen bisect --good REV --env local"}
	}
	opts := bisect.Options{Repo: f.repo, Good: f.good, Bad: f.bad, Prepare: f.prepare, Executor: f.executor,
		Suite: f.suite, Class: f.class, Strict: f.strict, WorkDir: f.work, Progress: s.Out,
		Logger: newLogger(s.Err, f.verbose, false)}
	if f.filter != "" {
		if opts.Filter, err = regexp.Compile(f.filter); err != nil {
			return &usageError{msg: fmt.Sprintf("bisect: bad --filter: %v", err)}
		}
	}
	if f.store != "" {
		st, err := openHistory(ctx, f.store, true)
		if err != nil {
			return fmt.Errorf("bisect: %w", err)
		}
		defer st.Close()
		opts.Store = st
	}
	res, err := bisect.Run(ctx, opts)
	if err != nil {
		return fmt.Errorf("bisect: %w", err)
	}
	printBisect(s, res)
	return nil
}

func printBisect(s Streams, res *bisect.Result) {
	skips, cached := 0, 0
	for _, st := range res.Steps {
		if st.Verdict == bisect.Skip {
			skips++
		}
		if st.Cached {
			cached++
		}
	}
	if len(res.Suspects) > 0 {
		fmt.Fprintf(s.Out, "the first bad commit could be any of (skipped candidates hide it):\n")
		for _, c := range res.Suspects {
			fmt.Fprintf(s.Out, "  %s\n", c)
		}
	}
	fmt.Fprintf(s.Out, "first bad commit: %s %s\n", res.FirstBad, res.Subject)
	if res.DiffStat != "" {
		for _, l := range strings.Split(res.DiffStat, "\n") {
			fmt.Fprintf(s.Out, "  %s\n", strings.TrimSpace(l))
		}
	}
	base := ""
	if res.Baseline {
		base = " + the good commit's reference replay"
	}
	fmt.Fprintf(s.Out, "bisect: %d candidate(s), %d step(s): %d replay(s)%s, %d from history, %d skipped; cases: %s\n",
		res.Candidates, len(res.Steps), res.Replays, base, cached, skips, strings.Join(res.Cases, ", "))
}
