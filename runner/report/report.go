package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/regen-dev/regen/internal/atomicfile"
)

// File names inside a run directory.
const (
	ResultsFile = "results.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.txt"
)

// SchemaVersion is the version of the results.json format.
const SchemaVersion = 1

// Verdict is a case's or an output's verdict (comparison.md).
type Verdict string

// Verdicts, from best to worst as Worse orders them.
const (
	Pass       Verdict = "pass"  // identical to the golden
	PassApprox Verdict = "pass~" // within every threshold, not identical
	New        Verdict = "new"   // no golden yet
	Fail       Verdict = "fail"  // a tier tripped
	Error      Verdict = "error" // replay failed, no output
	Skip       Verdict = "skip"  // not run (suite skip reason)
)

func rank(v Verdict) int {
	switch v {
	case Skip:
		return 0
	case Pass:
		return 1
	case PassApprox:
		return 2
	case New:
		return 3
	case Fail:
		return 4
	case Error:
		return 5
	}
	return 5
}

// Worse returns the worse of a and b (error > fail > new > pass~ > pass >
// skip); an empty verdict counts as absent.
func Worse(a, b Verdict) Verdict {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Run is the record of one `regen run`.
type Run struct {
	SchemaVersion int       `json:"schema_version"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	WallSeconds   float64   `json:"wall_seconds"`
	Git           Git       `json:"git"`
	// Target describes where the executor ran ("local x2", a URL).
	Target string `json:"target"`
	// Endpoints are the executor base URLs used.
	Endpoints []string `json:"endpoints,omitempty"`
	// Environment is the golden class the run was judged against.
	Environment string `json:"environment"`
	// TargetClass is the environment class of the target; when it is not
	// Environment, the run judged across classes (--golden-class) with
	// thresholds calibrated for the pair.
	TargetClass string `json:"target_class,omitempty"`
	// Fingerprint is the executor's /system_stats, verbatim.
	Fingerprint json.RawMessage `json:"fingerprint,omitempty"`
	Suite       string          `json:"suite"`
	// Profile is the suite profile the run used (suite.SelectProfile),
	// ProfileReason why, TargetKind what the target was detected as
	// (regen-executor or comfyui).
	Profile       string `json:"profile,omitempty"`
	ProfileReason string `json:"profile_reason,omitempty"`
	TargetKind    string `json:"target_kind,omitempty"`
	// SuiteHash is the SHA-256 of the suite file.
	SuiteHash   string `json:"suite_hash,omitempty"`
	GoldenDir   string `json:"golden_dir"`
	Filter      string `json:"filter,omitempty"`
	Strict      bool   `json:"strict"`
	Concurrency int    `json:"concurrency"`
	// Error is a run-level failure (target unreachable, interrupted).
	Error  string `json:"error,omitempty"`
	Cases  []Case `json:"cases"`
	Totals Totals `json:"totals"`
}

// Git is the commit the run was made from.
type Git struct {
	Commit string `json:"commit,omitempty"`
	Dirty  bool   `json:"dirty"`
	// Parents (first parent first), Subject and AuthorDate describe the
	// commit; DiffHash is the SHA-256 of `git diff HEAD` when Dirty.
	Parents    []string  `json:"parents,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	AuthorDate time.Time `json:"author_date,omitzero"`
	DiffHash   string    `json:"diff_hash,omitempty"`
}

// Case is one case's result.
type Case struct {
	ID       string   `json:"id"`
	Workflow string   `json:"workflow"`
	Variant  string   `json:"variant,omitempty"`
	Seed     uint64   `json:"seed"`
	Labels   []string `json:"labels,omitempty"`

	Verdict Verdict `json:"verdict"`
	Tier    string  `json:"tier,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	// Error is the replay error (verdict error).
	Error string `json:"error,omitempty"`
	// Skip is the suite's skip reason (verdict skip).
	Skip string `json:"skip,omitempty"`

	Endpoint string `json:"endpoint,omitempty"`
	PromptID string `json:"prompt_id,omitempty"`
	// Attempts is how many times the case was replayed; Retried holds the
	// infrastructure errors of the attempts that were retried.
	Attempts int      `json:"attempts,omitempty"`
	Retried  []string `json:"retried,omitempty"`

	ReplaySeconds  float64 `json:"replay_seconds"`
	CompareSeconds float64 `json:"compare_seconds"`
	TotalSeconds   float64 `json:"total_seconds"`

	Outputs []Output `json:"outputs,omitempty"`

	// Since is what the history says of a case that did not pass: the last
	// recorded commit where it passed and the first where it failed.
	Since *Since `json:"since,omitempty"`
	// Trend is the case's verdict at the last recorded commits, oldest
	// first, this run's commit last (the report's history strip).
	Trend []TrendPoint `json:"trend,omitempty"`
}

// Problem says why a case has the error verdict: its replay error, or, when
// the replay worked but an output could not be judged (a stale golden
// record), that output's reason.
func (c Case) Problem() string {
	if c.Error != "" {
		return c.Error
	}
	return c.Reason
}

// Output is one image a case produced, judged against its golden.
type Output struct {
	// Node is the output node id; Index the image's position in that
	// node's images.
	Node  string `json:"node"`
	Index int    `json:"index"`
	// File is the case file's base name (golden/<env>/<workflow>/<File>.png).
	File string `json:"file"`

	Verdict Verdict `json:"verdict"`
	Tier    string  `json:"tier,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	// Tripped lists every tier that tripped, furthest over its threshold
	// first ("colour (12× over)", "structure (1.2× over)"); Tier stays the
	// primary one. When several tripped, Reason ends with the same list.
	Tripped []string `json:"tripped,omitempty"`
	// Key is the metric the terminal line shows.
	Key *Metric `json:"key,omitempty"`
	// Metrics holds every metric the comparison computed, flattened to
	// "tier.metric" names; Thresholds the thresholds in force.
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
	// Compare is the comparator's full result, verbatim.
	Compare json.RawMessage `json:"compare,omitempty"`

	// Paths relative to the run directory.
	Candidate       string `json:"candidate,omitempty"`
	CandidateRecord string `json:"candidate_record,omitempty"`
	Diff            string `json:"diff,omitempty"`
	// Golden is the golden PNG path the output was compared with.
	Golden string `json:"golden,omitempty"`
	// GoldenSHA256 is the SHA-256 of that golden PNG file as judged: a
	// report regenerated later warns when today's golden differs.
	GoldenSHA256 string `json:"golden_sha256,omitempty"`
	// GoldenCopy is the run-relative copy of the golden PNG judged against
	// (kept, like the candidate, for anything but an identical pass), with
	// its record beside it (.json).
	GoldenCopy string `json:"golden_copy,omitempty"`
	// PixelHash is the SHA-256 of the output's decoded pixels; GoldenHash
	// the one of the golden it was judged against.
	PixelHash  string `json:"pixel_hash,omitempty"`
	GoldenHash string `json:"golden_hash,omitempty"`
}

// Metric is a named value and its threshold.
type Metric struct {
	Name      string  `json:"name"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
}

// Totals count cases per verdict.
type Totals struct {
	Cases      int `json:"cases"`
	Pass       int `json:"pass"`
	PassApprox int `json:"pass_approx"`
	Fail       int `json:"fail"`
	Error      int `json:"error"`
	New        int `json:"new"`
	Skip       int `json:"skip"`
}

// Tally recomputes r.Totals from r.Cases.
func (r *Run) Tally() {
	t := Totals{Cases: len(r.Cases)}
	for _, c := range r.Cases {
		switch c.Verdict {
		case Pass:
			t.Pass++
		case PassApprox:
			t.PassApprox++
		case Fail:
			t.Fail++
		case New:
			t.New++
		case Skip:
			t.Skip++
		default:
			t.Error++
		}
	}
	r.Totals = t
}

// Write writes results.json, junit.xml and summary.txt into dir
// atomically (runner/htmlreport renders report.html from them).
func Write(dir string, r *Run) error {
	r.SchemaVersion = SchemaVersion
	r.Tally()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ResultsFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	x, err := JUnit(r)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, JUnitFile), x, 0o644); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	var s bytes.Buffer
	Terminal(&s, r, "")
	if err := atomicfile.WriteFile(filepath.Join(dir, SummaryFile), s.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// Read loads a run's results.json from dir.
func Read(dir string) (*Run, error) {
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, fmt.Errorf("read run results: %w", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode run results %s: %w", dir, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("decode run results %s: schema version %d, want %d", dir, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}
