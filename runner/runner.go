package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regen-dev/regen/harness/client"
	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/runner/golden"
	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
	"github.com/regen-dev/regen/runner/suite"
	"github.com/regen-dev/regen/runner/target"
)

// DefaultCaseTimeout bounds one case's replay when neither the suite nor
// the options say otherwise.
const DefaultCaseTimeout = 5 * time.Minute

// TierMissing is the failure class of a golden whose output the replay no
// longer produced.
const TierMissing = "missing"

// CandidatesDir is the folder of a run directory holding the candidate
// outputs (and diffs), as candidates/<workflow>/<case file>.{png,json,diff.png}.
const CandidatesDir = "candidates"

// JudgedDir is the folder of a run directory holding a copy of every
// golden the run judged against, as goldens/<workflow>/<case file>.{png,json}:
// a report regenerated later shows what the run saw, not today's goldens.
const JudgedDir = "goldens"

// Options configure a run.
type Options struct {
	// Suite is the decoded suite; SuitePath names it in reports.
	Suite     *suite.Suite
	SuitePath string
	// Class is the environment class whose goldens judge the run
	// (golden/<class>/); default: the suite's environment.
	Class string
	// Target is where cases run; Run starts and closes it.
	Target target.Target
	// GoldenDir is the golden root (golden/); the suite's environment
	// picks the class folder.
	GoldenDir string
	// RunDir receives the report and candidates; created if needed.
	RunDir string
	// Filter keeps the cases whose id matches; Seeds replace the suite's.
	Filter *regexp.Regexp
	Seeds  []uint64
	// Labels keep the cases carrying at least one of them (plan.Options).
	Labels []string
	// Concurrency is the number of cases in flight (default: one per
	// endpoint). Cases are spread over the endpoints round-robin; with
	// more than one in flight they are dispatched longest first (see
	// dispatchOrder).
	Concurrency int
	// History, optional, gives recorded replay times per case id (e.g.
	// HistoryFromRun of a previous run) to order the dispatch by; cases
	// without one are estimated from their size and steps.
	History History
	// PlanOrder dispatches in plan order even with several cases in
	// flight (to measure what longest-first gains).
	PlanOrder bool
	// Strict turns pass~ into a failure (bit-exact lanes); without it the
	// suite's lane of the target's class decides (suite.Lane).
	Strict bool
	// CrossClass allows a target whose environment class is not Class to
	// be judged against Class's goldens (regen run --golden-class): each
	// golden must then carry thresholds calibrated for that pair of
	// classes (regen golden calibrate --against), or its case is an error.
	CrossClass bool
	// TargetClass is the environment class of a target that does not
	// report one (any server but regen-executor); default Class.
	TargetClass string
	// ClassFromTarget makes the class the target reports (regen-executor
	// does) the class of the goldens, over Class: a calibration of a
	// target's own goldens needs no --class.
	ClassFromTarget bool
	// Timeout, when positive, bounds every case's replay over the case's
	// and the suite's own timeout (an explicit --timeout wins); 0 leaves
	// each case its suite's timeout, else DefaultCaseTimeout.
	Timeout time.Duration
	// Logger receives progress and diagnostics (default slog.Default()).
	Logger *slog.Logger
	// OnCase, when set, is called as each case finishes (in completion
	// order, from one goroutine at a time).
	OnCase func(report.Case)
	// Retries is how many times a case whose replay failed for an
	// infrastructure reason (connection, timeout, a 5xx, no output) is
	// replayed again; verdicts are never retried. Each retry is in the
	// record.
	Retries int
	// RetryBackoff is the pause before the first retry, doubled for each
	// further one (default DefaultRetryBackoff).
	RetryBackoff time.Duration
	// ReuseCache keeps the executor's output cache between cases. By
	// default every case is preceded by POST /free {"free_memory": true},
	// so that a case's output never depends on the case before it.
	ReuseCache bool
	// RepoDir is where git is asked for the commit (default ".").
	RepoDir string
	// Profile names the suite profile to use (--profile); "" picks the
	// profile marked for the target's kind, else the default (see
	// suite.SelectProfile).
	Profile string
	// Notify, when set, receives the few lines a user should see whatever
	// the log level (the profile used).
	Notify func(string)
	// Sinks receive the finished run, in order (default DefaultSinks: the
	// report files, then report.html). A required sink's failure is the
	// run's error; it never turns a verdict into a pass.
	Sinks []Sink
}

var classRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Session is a started target, ready to replay cases: its endpoints and
// clients, fingerprint and /object_info, with the suite's inputs uploaded.
type Session struct {
	opts        Options
	log         *slog.Logger
	endpoints   []target.Endpoint
	clients     []*client.Client
	fingerprint json.RawMessage
	stable      json.RawMessage
	finger      map[string]string
	info        workflow.ObjectInfo
	kind        string
	targetClass string
	strict      bool
	laneStrict  bool
	profile     suite.Selected
	store       golden.Store
	git         report.Git
	started     time.Time
	// dropped is the first case during which an executor dropped the
	// connection, named in the errors of the cases after it.
	dropped atomic.Pointer[droppedAt]
}

// Start starts the target, reads its fingerprint and /object_info, picks
// the suite profile (Options.Profile, else by the target's kind) and uploads
// its input images to every endpoint. Errors are infrastructure errors
// (exit 2); with some (a class mismatch, a failed upload) the session is
// returned too, and must be closed.
func Start(ctx context.Context, opts Options) (*Session, error) {
	if opts.Suite == nil || opts.Target == nil {
		return nil, errors.New("start run: suite and target are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.GoldenDir == "" {
		opts.GoldenDir = "golden"
	}
	if opts.RepoDir == "" {
		opts.RepoDir = "."
	}
	if opts.Class == "" {
		opts.Class = opts.Suite.Environment
	}
	if !classRE.MatchString(opts.Class) {
		return nil, fmt.Errorf("start run: environment class %q: want letters, digits, '.', '_' or '-'", opts.Class)
	}
	s := &Session{
		opts:    opts,
		log:     opts.Logger.With("component", "runner"),
		store:   golden.Store{Root: opts.GoldenDir, Class: opts.Class},
		started: time.Now(),
	}
	// Finish what an interrupted approve left (a torn pair, leftovers)
	// before any golden is read. A read-only golden dir is judged as is.
	if r, err := s.store.Recover(); err != nil {
		s.log.Warn("could not recover the golden dir", "dir", s.store.Dir(), "err", err)
	} else if len(r.Repaired)+len(r.Removed) > 0 {
		s.log.Warn("finished an interrupted golden approve", "dir", s.store.Dir(), "repaired", r.Repaired, "removed", r.Removed)
	}
	s.git = gitState(ctx, opts.RepoDir)
	eps, err := opts.Target.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("start target %s: %w", opts.Target.Describe(), err)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("start target %s: no endpoints", opts.Target.Describe())
	}
	s.endpoints = eps
	for _, ep := range eps {
		cl, err := client.New(ep.URL, client.WithLogger(opts.Logger))
		if err != nil {
			return nil, fmt.Errorf("connect %s: %w", ep.Name, err)
		}
		s.clients = append(s.clients, cl)
	}
	if s.fingerprint, err = opts.Target.Fingerprint(ctx); err != nil {
		return nil, fmt.Errorf("fingerprint target: %w", err)
	}
	s.stable = stableFingerprint(s.fingerprint)
	s.kind = TargetKind(s.fingerprint)
	if s.profile, err = opts.Suite.SelectProfile(opts.Profile, s.kind); err != nil {
		return nil, fmt.Errorf("select suite profile: %w", err)
	}
	s.log.Info("suite profile", "profile", s.profile.Name, "target_kind", s.kind, "reason", s.profile.Reason)
	if opts.Notify != nil {
		opts.Notify(fmt.Sprintf("profile: %s (%s)", s.profile.Name, s.profile.Reason))
	}
	s.finger = flatFingerprint(s.fingerprint, opts.Class)
	s.targetClass = TargetClass(s.fingerprint)
	if opts.ClassFromTarget && s.targetClass != "" && s.targetClass != opts.Class {
		opts.Class, s.opts.Class = s.targetClass, s.targetClass
		s.store.Class = s.targetClass
		s.finger = flatFingerprint(s.fingerprint, opts.Class)
		if _, err := s.store.Recover(); err != nil {
			s.log.Warn("could not recover the golden dir", "dir", s.store.Dir(), "err", err)
		}
	}
	if s.targetClass == "" {
		s.targetClass = opts.TargetClass
	}
	if s.targetClass == "" {
		s.targetClass = opts.Class
	}
	s.laneStrict = opts.Suite.Lane(s.targetClass) == suite.LaneStrict
	s.strict = opts.Strict || s.laneStrict
	if tc := s.targetClass; tc != opts.Class && !opts.CrossClass {
		return s, fmt.Errorf("the target reports environment class %q but this run judges against the %q goldens (%s); "+
			"outputs of another class are never silently compared: run with --class %s to use (and approve) that class's goldens, "+
			"or with --golden-class %s to judge it against them with thresholds calibrated for the pair (regen golden calibrate --against %s)",
			tc, opts.Class, s.store.Dir(), tc, opts.Class, opts.Class)
	}
	if s.info, err = s.clients[0].ObjectInfo(ctx); err != nil {
		return nil, fmt.Errorf("read target object_info: %w", err)
	}
	if err := s.upload(ctx); err != nil {
		return s, err // s: the run still records the profile whose inputs failed
	}
	return s, nil
}

func (s *Session) upload(ctx context.Context) error {
	for _, in := range s.profile.Inputs {
		data, err := os.ReadFile(s.opts.Suite.Resolve(in.Path))
		if err != nil {
			return fmt.Errorf("read input image: %w", err)
		}
		for i, cl := range s.clients {
			if _, err := cl.Upload(ctx, in.Name, data, client.UploadOptions{Overwrite: true}); err != nil {
				return fmt.Errorf("upload %s to %s: %w", in.Name, s.endpoints[i].Name, err)
			}
		}
	}
	return nil
}

// Plan expands the suite into cases against the target's /object_info.
func (s *Session) Plan() []plan.Case {
	return plan.Build(s.opts.Suite, plan.Options{ObjectInfo: s.info, Seeds: s.opts.Seeds, Filter: s.opts.Filter, Labels: s.opts.Labels, Profile: &s.profile})
}

// TargetClass is the environment class of the target: the one it reports,
// else Options.TargetClass, else the class of the goldens.
func (s *Session) TargetClass() string { return s.targetClass }

// Strict reports whether pass~ is a failure in this session: --strict, or
// the suite's lane of the target's class.
func (s *Session) Strict() bool { return s.strict }

// Store is the golden store the session judges against.
func (s *Session) Store() golden.Store { return s.store }

// Endpoints is the number of endpoints (replicas) of the target.
func (s *Session) Endpoints() int { return len(s.endpoints) }

// Commit is the commit the session runs from, with "-dirty" when the
// working tree was dirty ("" outside git).
func (s *Session) Commit() string {
	if s.git.Commit != "" && s.git.Dirty {
		return s.git.Commit + "-dirty"
	}
	return s.git.Commit
}

// PlanWith expands the suite like Plan with other seeds and no filter
// (positive controls replay each case with another seed).
func (s *Session) PlanWith(seeds []uint64) []plan.Case {
	return plan.Build(s.opts.Suite, plan.Options{ObjectInfo: s.info, Seeds: seeds, Labels: s.opts.Labels, Profile: &s.profile})
}

// Close closes the target.
func (s *Session) Close() error { return s.opts.Target.Close() }

// Run replays the suite: Start, Plan, every case concurrently, then the
// report files in the run directory. It returns the run record, also when
// the run failed part-way (then with the error: an infrastructure failure,
// or ctx's error when interrupted). Regressions are not errors: inspect
// the record (see Outcome).
func Run(ctx context.Context, opts Options) (*report.Run, error) {
	started := time.Now()
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	rec := &report.Run{
		Started: started.UTC(), Target: opts.Target.Describe(), Environment: opts.Class,
		Suite: opts.SuitePath, GoldenDir: opts.GoldenDir, Strict: opts.Strict,
	}
	if rec.Environment == "" {
		rec.Environment = opts.Suite.Environment
	}
	if opts.Filter != nil {
		rec.Filter = opts.Filter.String()
	}
	if opts.SuitePath != "" {
		if b, err := os.ReadFile(opts.SuitePath); err == nil {
			sum := sha256.Sum256(b)
			rec.SuiteHash = hex.EncodeToString(sum[:])
		}
	}
	sinks := opts.Sinks
	if sinks == nil {
		sinks = DefaultSinks(opts.Logger)
	}
	finish := func(err error) (*report.Run, error) {
		rec.Finished = time.Now().UTC()
		rec.WallSeconds = time.Since(started).Seconds()
		if err != nil && rec.Error == "" {
			rec.Error = err.Error()
		}
		if serr := deliver(ctx, sinks, opts.RunDir, rec, opts.Logger); serr != nil {
			return rec, errors.Join(err, serr)
		}
		return rec, err
	}
	if err := os.MkdirAll(opts.RunDir, 0o755); err != nil {
		return rec, fmt.Errorf("create run dir: %w", err)
	}
	s, err := Start(ctx, opts)
	if s != nil {
		defer s.Close()
		rec.Profile, rec.ProfileReason, rec.TargetKind = s.profile.Name, s.profile.Reason, s.kind
	} else {
		defer opts.Target.Close()
	}
	if err != nil {
		return finish(err)
	}
	rec.Git, rec.Fingerprint = s.git, s.fingerprint
	rec.TargetClass, rec.Strict = s.targetClass, s.strict
	// Started, a target knows where it runs (a namespace, a host node).
	rec.Target = opts.Target.Describe()
	for _, ep := range s.endpoints {
		rec.Endpoints = append(rec.Endpoints, ep.URL)
	}
	cases := s.Plan()
	if len(cases) == 0 {
		return finish(fmt.Errorf("plan: no case matches the filter (--filter %q, --label %q)", rec.Filter, strings.Join(opts.Labels, ",")))
	}
	conc := s.opts.Concurrency
	if conc <= 0 {
		conc = len(s.endpoints)
	}
	rec.Concurrency = conc
	rec.Cases = s.runAll(ctx, cases, conc)
	if ctx.Err() != nil {
		return finish(fmt.Errorf("run interrupted: %w", ctx.Err()))
	}
	return finish(nil)
}

// runAll runs cases on conc workers; worker w uses endpoint w mod len.
// Cases are handed out in dispatchOrder (longest first when conc > 1);
// results keep the plan's order.
func (s *Session) runAll(ctx context.Context, cases []plan.Case, conc int) []report.Case {
	out := make([]report.Case, len(cases))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(ep int) {
			defer wg.Done()
			for i := range jobs {
				rc := s.Case(ctx, cases[i], ep)
				out[i] = rc
				if s.opts.OnCase != nil {
					mu.Lock()
					s.opts.OnCase(rc)
					mu.Unlock()
				}
			}
		}(w % len(s.endpoints))
	}
	longestFirst := conc > 1 && !s.opts.PlanOrder
	for _, i := range dispatchOrder(cases, longestFirst, s.opts.History) {
		if ctx.Err() != nil {
			out[i] = interrupted(cases[i], ctx.Err())
			continue
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			out[i] = interrupted(cases[i], ctx.Err())
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

func interrupted(c plan.Case, err error) report.Case {
	rc := newCase(c)
	rc.Verdict, rc.Error = report.Error, "not run: "+err.Error()
	return rc
}

func newCase(c plan.Case) report.Case {
	return report.Case{ID: c.ID, Workflow: c.Workflow, Variant: c.Variant, Seed: c.Seed, Labels: c.Labels}
}

// Outcome classifies a finished run: it returns the ids of the cases that
// regressed (fail, or pass~ under strict) and a description of each
// infrastructure problem (replay errors, missing goldens, a run error).
func Outcome(r *report.Run) (regressions, infra []string) {
	for _, c := range r.Cases {
		switch {
		case c.Verdict == report.Fail, c.Verdict == report.PassApprox && r.Strict:
			regressions = append(regressions, fmt.Sprintf("%s (%s)", c.ID, c.Tier))
		case c.Verdict == report.Error:
			infra = append(infra, fmt.Sprintf("%s: %s", c.ID, c.Problem()))
		case c.Verdict == report.New:
			infra = append(infra, fmt.Sprintf("%s: no golden", c.ID))
		}
	}
	if r.Error != "" {
		infra = append(infra, r.Error)
	}
	return regressions, infra
}

// candidatePath returns the run-relative path of a case file's candidate
// with the given suffix (".png", ".json", ".diff.png").
func candidatePath(workflow, file, suffix string) string {
	return filepath.Join(CandidatesDir, workflow, file+suffix)
}

// Candidates lists every judged output of a finished run (read from
// runDir) as a golden candidate, for golden.Store.Approve.
func Candidates(r *report.Run, runDir string) []golden.Candidate {
	var out []golden.Candidate
	for _, c := range r.Cases {
		for _, o := range c.Outputs {
			cand := golden.Candidate{Case: c.ID, Workflow: c.Workflow, File: o.File, Verdict: string(o.Verdict),
				Vanished: o.Tier == TierMissing}
			if o.Candidate != "" {
				cand.PNG = filepath.Join(runDir, o.Candidate)
			}
			if o.CandidateRecord != "" {
				cand.Record = filepath.Join(runDir, o.CandidateRecord)
			}
			out = append(out, cand)
		}
	}
	return out
}
