package bisect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
)

// Defaults.
const (
	DefaultPrepare  = "make build"
	DefaultExecutor = "bin/regen-executor --listen {addr} --models fixtures/models --input {input} --output {output} --temp {temp}"
	DefaultSuite    = "fixtures/suite.yaml"
)

// Verdicts of a step.
const (
	Good = "good"
	Bad  = "bad"
	Skip = "skip"
)

// Options configure a bisect.
type Options struct {
	// Repo is the user's repository; it is only read.
	Repo string
	// Good and Bad are revisions: Good produced the right outputs, Bad
	// does not.
	Good, Bad string
	// Filter selects the cases; when nil and Store holds a run of Bad, the
	// cases that did not pass there; else every case.
	Filter *regexp.Regexp
	// Prepare is run by sh in each candidate's tree (default DefaultPrepare).
	Prepare string
	// Executor starts a candidate's executor in its tree (default
	// DefaultExecutor); {addr}, {port}, {output}, {input}, {temp} are
	// filled in.
	Executor string
	// Suite is the suite file, relative to the tree (default DefaultSuite).
	Suite string
	// Class is the environment class (default: the suite's).
	Class string
	// Strict counts pass~ as bad.
	Strict bool
	// Store, when set, caches steps and records them.
	Store history.Store
	// WorkDir holds the scratch clone and runs (default: a temporary
	// folder, removed at the end).
	WorkDir string
	// Progress receives one line per step; Logger diagnostics.
	Progress io.Writer
	Logger   *slog.Logger
}

// Step is one candidate judged.
type Step struct {
	Commit  string
	Subject string
	Verdict string // Good, Bad, Skip
	// Cached is set when the history answered without a replay.
	Cached bool
	// Reason says why a step was skipped.
	Reason string
	// Cases maps each selected case to its verdict against Good's outputs.
	Cases map[string]string
}

// Result is a finished bisect.
type Result struct {
	Good, Bad string
	// FirstBad is the first bad commit; when skipped candidates leave
	// several, Suspects lists them all (FirstBad is then the last).
	FirstBad string
	Subject  string
	DiffStat string
	Suspects []string
	Steps    []Step
	// Candidates is the number of commits in good..bad; Replays the
	// candidate replays run (the good commit's baseline not counted,
	// Baseline says whether it ran).
	Candidates int
	Replays    int
	Baseline   bool
	Cases      []string
}

type bisector struct {
	opts      Options
	log       *slog.Logger
	tree      string
	work      string
	goldenDir string
	good      string
	cases     []string
	filter    *regexp.Regexp
	baseline  bool
	replays   int
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// Run bisects.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Prepare == "" {
		opts.Prepare = DefaultPrepare
	}
	if opts.Executor == "" {
		opts.Executor = DefaultExecutor
	}
	if opts.Suite == "" {
		opts.Suite = DefaultSuite
	}
	if opts.Repo == "" {
		opts.Repo = "."
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	b := &bisector{opts: opts, log: opts.Logger}
	if b.log == nil {
		b.log = slog.Default()
	}
	good, err := git(ctx, opts.Repo, "rev-parse", "--verify", opts.Good+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("resolve --good %s: %w", opts.Good, err)
	}
	bad, err := git(ctx, opts.Repo, "rev-parse", "--verify", opts.Bad+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("resolve --bad %s: %w", opts.Bad, err)
	}
	if _, err := git(ctx, opts.Repo, "merge-base", "--is-ancestor", good, bad); err != nil {
		return nil, fmt.Errorf("bisect: %s is not an ancestor of %s", opts.Good, opts.Bad)
	}
	list, err := git(ctx, opts.Repo, "rev-list", "--first-parent", "--reverse", good+".."+bad)
	if err != nil {
		return nil, err
	}
	cands := strings.Fields(list)
	if len(cands) == 0 {
		return nil, fmt.Errorf("bisect: no commit between %s and %s", opts.Good, opts.Bad)
	}
	b.good = good
	res := &Result{Good: good, Bad: bad, Candidates: len(cands)}

	b.work = opts.WorkDir
	if b.work == "" {
		if b.work, err = os.MkdirTemp("", "regen-bisect-"); err != nil {
			return nil, fmt.Errorf("create scratch folder: %w", err)
		}
		defer os.RemoveAll(b.work)
	}
	b.tree = filepath.Join(b.work, "tree")
	b.goldenDir = filepath.Join(b.work, "golden-good")
	if _, err := os.Stat(b.tree); err != nil {
		if _, err := git(ctx, b.work, "clone", "--quiet", "--shared", "--no-checkout", absPath(opts.Repo), b.tree); err != nil {
			return nil, fmt.Errorf("create the scratch clone: %w", err)
		}
	}
	if err := b.selectCases(ctx, bad); err != nil {
		return nil, err
	}

	// Binary search: lo is known good (-1: the good commit), hi known bad.
	lo, hi := -1, len(cands)-1
	skipped := map[int]bool{}
	for hi-lo > 1 {
		mid := pick(lo, hi, skipped)
		if mid < 0 {
			break
		}
		st, err := b.test(ctx, cands[mid])
		if err != nil {
			return res, err
		}
		res.Steps = append(res.Steps, st)
		fmt.Fprintln(opts.Progress, stepLine(len(res.Steps), st))
		switch st.Verdict {
		case Good:
			lo = mid
		case Bad:
			hi = mid
		default:
			skipped[mid] = true
		}
	}
	res.FirstBad = cands[hi]
	for i := lo + 1; i <= hi; i++ {
		if i == hi || skipped[i] {
			res.Suspects = append(res.Suspects, cands[i])
		}
	}
	if len(res.Suspects) == 1 {
		res.Suspects = nil
	}
	res.Subject, _ = git(ctx, opts.Repo, "log", "-1", "--format=%s", res.FirstBad)
	res.DiffStat, _ = git(ctx, opts.Repo, "show", "--stat", "--format=", res.FirstBad)
	res.Replays, res.Baseline = b.replays, b.baseline
	if len(b.cases) > 0 {
		res.Cases = b.cases
	}
	return res, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// pick returns the candidate to test between lo and hi (exclusive): the
// midpoint, or the nearest one not skipped; -1 when every one is skipped.
func pick(lo, hi int, skipped map[int]bool) int {
	mid := (lo + hi + 1) / 2
	for d := 0; d < hi-lo; d++ {
		for _, i := range []int{mid + d, mid - d} {
			if i > lo && i < hi && !skipped[i] {
				return i
			}
		}
	}
	return -1
}

func short(c string) string {
	if len(c) > 10 {
		return c[:10]
	}
	return c
}

func stepLine(n int, st Step) string {
	how := "replayed"
	if st.Cached {
		how = "from history"
	}
	if st.Verdict == Skip {
		return fmt.Sprintf("step %d: %s skip (%s) %s", n, short(st.Commit), st.Reason, st.Subject)
	}
	var parts []string
	for id, v := range st.Cases {
		parts = append(parts, id+"="+v)
	}
	sort.Strings(parts)
	return fmt.Sprintf("step %d: %s %s (%s: %s) %s", n, short(st.Commit), st.Verdict, how, strings.Join(parts, " "), st.Subject)
}

// selectCases fixes the cases to replay: the filter's, else those that did
// not pass at bad in the history, else all (resolved at the first replay).
func (b *bisector) selectCases(ctx context.Context, bad string) error {
	b.filter = b.opts.Filter
	if b.filter != nil || b.opts.Store == nil {
		return nil
	}
	st, err := b.opts.Store.States(ctx, history.Query{Environment: b.opts.Class}, []string{bad})
	if err != nil {
		return fmt.Errorf("read the history of %s: %w", short(bad), err)
	}
	var ids []string
	for _, s := range st[bad] {
		if !history.Passing(s.Verdict) && s.Verdict != "skip" {
			ids = append(ids, regexp.QuoteMeta(s.Case))
		}
	}
	if len(ids) > 0 {
		b.filter = regexp.MustCompile("^(" + strings.Join(ids, "|") + ")$")
		fmt.Fprintf(b.opts.Progress, "bisect: %d case(s) did not pass at %s in the history: replaying only those\n", len(ids), short(bad))
	}
	return nil
}

// cached answers a step from the history: the runs this bisect recorded.
func (b *bisector) cached(ctx context.Context, commit string) (*Step, error) {
	if b.opts.Store == nil {
		return nil, nil
	}
	q := history.Query{Environment: b.opts.Class, Source: history.BisectSource(b.good)}
	commits, err := b.opts.Store.Commits(ctx, q)
	if err != nil {
		return nil, err
	}
	var rec *history.Commit
	for i := range commits {
		if commits[i].Commit == commit {
			rec = &commits[i]
		}
	}
	if rec == nil {
		return nil, nil
	}
	st, err := b.opts.Store.States(ctx, q, []string{commit})
	if err != nil {
		return nil, err
	}
	step := &Step{Commit: commit, Subject: rec.Subject, Cached: true, Cases: map[string]string{}}
	for _, s := range st[commit] {
		if b.filter == nil || b.filter.MatchString(s.Case) {
			step.Cases[s.Case] = s.Verdict
		}
	}
	if len(st[commit]) == 0 {
		step.Verdict, step.Reason = Skip, "did not prepare (recorded)"
		return step, nil
	}
	if len(step.Cases) == 0 {
		return nil, nil // recorded for other cases
	}
	step.Verdict = b.judge(step.Cases)
	return step, nil
}

func (b *bisector) judge(cases map[string]string) string {
	verdict := Good
	for _, v := range cases {
		switch {
		case v == string(report.Fail), v == string(report.PassApprox) && b.opts.Strict:
			return Bad
		case v == string(report.Error), v == string(report.New):
			verdict = Skip
		}
	}
	return verdict
}

// test judges one candidate.
func (b *bisector) test(ctx context.Context, commit string) (Step, error) {
	if st, err := b.cached(ctx, commit); err != nil || st != nil {
		if err != nil {
			return Step{}, fmt.Errorf("read the bisect history: %w", err)
		}
		return *st, nil
	}
	if !b.baseline {
		if err := b.makeBaseline(ctx); err != nil {
			return Step{}, err
		}
	}
	subject, _ := git(ctx, b.opts.Repo, "log", "-1", "--format=%s", commit)
	step := Step{Commit: commit, Subject: subject, Cases: map[string]string{}}
	if reason := b.checkout(ctx, commit); reason != "" {
		step.Verdict, step.Reason = Skip, reason
		return step, b.record(ctx, b.skipRun(ctx, reason))
	}
	rec, err := b.replay(ctx, commit, b.goldenDir)
	if err != nil {
		step.Verdict, step.Reason = Skip, err.Error()
		return step, nil
	}
	b.replays++
	for _, c := range rec.Cases {
		step.Cases[c.ID] = string(c.Verdict)
	}
	step.Verdict = b.judge(step.Cases)
	return step, b.record(ctx, history.FromReport(rec, history.BisectSource(b.good)))
}

// makeBaseline replays the good commit and keeps its outputs as the
// bisect's goldens.
func (b *bisector) makeBaseline(ctx context.Context) error {
	if reason := b.checkout(ctx, b.good); reason != "" {
		return fmt.Errorf("bisect: the good commit %s: %s", short(b.good), reason)
	}
	rec, err := b.replay(ctx, b.good, filepath.Join(b.work, "golden-none"))
	if err != nil {
		return fmt.Errorf("bisect: replay the good commit %s: %w", short(b.good), err)
	}
	for _, c := range rec.Cases {
		if c.Verdict != report.New {
			return fmt.Errorf("bisect: the good commit %s: case %s: %s %s", short(b.good), c.ID, c.Verdict, c.Problem())
		}
		b.cases = append(b.cases, c.ID)
	}
	runDir := filepath.Join(b.work, "runs", "good-"+short(b.good))
	store := golden.Store{Root: b.goldenDir, Class: rec.Environment}
	if _, err := store.Approve(runner.Candidates(rec, runDir), nil); err != nil {
		return fmt.Errorf("bisect: keep the good commit's outputs: %w", err)
	}
	b.baseline = true
	fmt.Fprintf(b.opts.Progress, "bisect: good %s replayed: %d case(s) kept as the reference\n", short(b.good), len(rec.Cases))
	return nil
}

// checkout puts commit in the scratch tree and prepares it; it returns why
// the candidate must be skipped, or "".
func (b *bisector) checkout(ctx context.Context, commit string) string {
	if _, err := git(ctx, b.tree, "checkout", "--quiet", "--force", "--detach", commit); err != nil {
		return "checkout failed: " + err.Error()
	}
	if _, err := git(ctx, b.tree, "clean", "--quiet", "-fdx"); err != nil {
		return "clean failed: " + err.Error()
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", b.opts.Prepare)
	cmd.Dir = b.tree
	out, err := cmd.CombinedOutput()
	if err != nil {
		last := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		b.log.Debug("prepare failed", "commit", commit, "output", string(out))
		return fmt.Sprintf("prepare %q failed: %v: %s", b.opts.Prepare, err, last)
	}
	return ""
}

// replay runs the selected cases of the tree's suite on its executor.
func (b *bisector) replay(ctx context.Context, commit, goldenDir string) (*report.Run, error) {
	name := short(commit)
	if commit == b.good && !b.baseline {
		name = "good-" + name
	}
	runDir := filepath.Join(b.work, "runs", name)
	suitePath := filepath.Join(b.tree, b.opts.Suite)
	st, err := suite.Load(suitePath)
	if err != nil {
		return nil, fmt.Errorf("load suite: %w", err)
	}
	logf, err := os.Create(filepath.Join(b.work, "executor-"+name+".log"))
	if err != nil {
		return nil, fmt.Errorf("create executor log: %w", err)
	}
	defer logf.Close()
	tgt := &process{command: b.opts.Executor, dir: b.tree, work: filepath.Join(b.work, "exec", name), log: logf}
	rec, err := runner.Run(ctx, runner.Options{
		Suite: st, SuitePath: suitePath, Class: b.opts.Class, Target: tgt, GoldenDir: goldenDir, RunDir: runDir,
		Filter: b.filter, Strict: b.opts.Strict, Logger: b.log, RepoDir: b.tree, Retries: 1,
		Sinks: []runner.Sink{runner.FilesSink{}},
	})
	if err != nil {
		return nil, err
	}
	if len(rec.Cases) == 0 {
		return nil, errNoCases
	}
	return rec, nil
}

// skipRun is the history record of a candidate that did not prepare.
func (b *bisector) skipRun(ctx context.Context, reason string) *history.Run {
	g := runner.GitState(ctx, b.tree)
	r := &report.Run{Git: g, Environment: b.opts.Class, Target: "bisect", Suite: b.opts.Suite, Error: "skip: " + reason}
	r.Started = time.Now().UTC()
	r.Finished = r.Started
	return history.FromReport(r, history.BisectSource(b.good))
}

func (b *bisector) record(ctx context.Context, r *history.Run) error {
	if b.opts.Store == nil {
		return nil
	}
	if r.Environment == "" {
		if st, err := suite.Load(filepath.Join(b.tree, b.opts.Suite)); err == nil {
			r.Environment = st.Environment
		}
	}
	if err := b.opts.Store.Record(ctx, r); err != nil {
		return fmt.Errorf("record bisect step: %w", err)
	}
	return nil
}
