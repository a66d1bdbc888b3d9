package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrMissing is returned (wrapped) when a case has no golden.
var ErrMissing = errors.New("golden missing")

// Store is a golden directory for one environment class.
type Store struct {
	// Root is the golden directory (golden/).
	Root string
	// Class is the environment class (cpu, cuda-h200).
	Class string
}

// Dir returns Root/Class.
func (s Store) Dir() string { return filepath.Join(s.Root, s.Class) }

// PNGPath returns the golden image path of a case file.
func (s Store) PNGPath(workflow, file string) string {
	return filepath.Join(s.Dir(), workflow, file+".png")
}

// RecordPath returns the golden record path of a case file.
func (s Store) RecordPath(workflow, file string) string {
	return filepath.Join(s.Dir(), workflow, file+".json")
}

// Golden is a stored golden: its PNG bytes and its record.
type Golden struct {
	PNG    []byte
	Record *Record
}

// Record is the JSON stored next to a golden PNG: which case and output it
// belongs to, the comparator's record of the image (hashes, icons, colour
// statistics), the thresholds in force, the executor fingerprint and the
// provenance of the run that produced it.
type Record struct {
	Case     string `json:"case"`
	Workflow string `json:"workflow"`
	Variant  string `json:"variant,omitempty"`
	Seed     uint64 `json:"seed"`
	Node     string `json:"node"`
	Index    int    `json:"index"`
	// Compare is the comparator's record (compare.Record).
	Compare json.RawMessage `json:"compare"`
	// Thresholds are the comparison thresholds calibrated for this golden
	// (compare.Thresholds); absent means the comparator's defaults.
	Thresholds json.RawMessage `json:"thresholds,omitempty"`
	// Fingerprint is the executor's /system_stats when it was produced.
	Fingerprint json.RawMessage `json:"fingerprint,omitempty"`
	Provenance  Provenance      `json:"provenance"`
	// Calibrations are the thresholds calibrated for this golden, keyed by
	// the environment class of the target judged against it: the golden's
	// own class (its benign spread, e.g. GPU nondeterminism), or another
	// class judged across classes (regen golden calibrate --against).
	// Absent: the golden's own class is judged with the default (or
	// Thresholds) thresholds, and no other class may be judged against it.
	Calibrations map[string]*Calibration `json:"calibrations,omitempty"`
}

// Provenance says where a golden came from.
type Provenance struct {
	Commit   string    `json:"commit,omitempty"`
	Dirty    bool      `json:"dirty"`
	Run      string    `json:"run,omitempty"`
	Produced time.Time `json:"produced"`
	// PromptHash is the SHA-256 of the replayed API prompt.
	PromptHash string `json:"prompt_hash,omitempty"`
}

// Encode renders r as indented JSON with a trailing newline.
func (r *Record) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode golden record: %w", err)
	}
	return append(b, '\n'), nil
}

// DecodeRecord parses a record.
func DecodeRecord(b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode golden record: %w", err)
	}
	return &r, nil
}

// Load reads the golden of a case file and checks that its PNG holds the
// pixels its record describes. A golden whose PNG and record are both
// absent is ErrMissing; one of the two without the other is ErrNoRecord; a
// pair that does not match is repaired when an interrupted approve explains
// it (see Recover), and ErrTorn otherwise.
func (s Store) Load(workflow, file string) (*Golden, error) {
	g, err := s.load(workflow, file)
	if errors.Is(err, ErrTorn) || errors.Is(err, ErrNoRecord) {
		if _, rerr := s.Recover(); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		g, err = s.load(workflow, file)
	}
	return g, err
}

func (s Store) load(workflow, file string) (*Golden, error) {
	pngPath, recPath := s.PNGPath(workflow, file), s.RecordPath(workflow, file)
	png, perr := os.ReadFile(pngPath)
	rb, rerr := os.ReadFile(recPath)
	pMissing, rMissing := errors.Is(perr, os.ErrNotExist), errors.Is(rerr, os.ErrNotExist)
	switch {
	case pMissing && rMissing:
		return nil, fmt.Errorf("load golden %s/%s: %w", workflow, file, ErrMissing)
	case rMissing && perr == nil:
		return nil, fmt.Errorf("load golden: %s has no record %s (%w): restore it from git, or delete the PNG to make the case new",
			pngPath, filepath.Base(recPath), ErrNoRecord)
	case pMissing && rerr == nil:
		return nil, fmt.Errorf("load golden: record %s has no PNG %s (%w): restore it from git, or delete the record to make the case new",
			recPath, filepath.Base(pngPath), ErrNoRecord)
	case perr != nil:
		return nil, fmt.Errorf("load golden: %w", perr)
	case rerr != nil:
		return nil, fmt.Errorf("load golden: %w", rerr)
	}
	rec, err := DecodeRecord(rb)
	if err != nil {
		return nil, fmt.Errorf("load golden %s/%s: %w", workflow, file, err)
	}
	if err := CheckPair(png, rb); err != nil {
		return nil, fmt.Errorf("load golden %s: %w (restore both from git, or re-approve)", pngPath, err)
	}
	return &Golden{PNG: png, Record: rec}, nil
}

// Candidate is an output of a finished run that may become a golden.
type Candidate struct {
	Case     string
	Workflow string
	File     string
	// Verdict is the output's verdict in the run ("new", "fail", "pass", ...).
	Verdict string
	// PNG and Record are the candidate's files in the run directory.
	PNG, Record string
	// Vanished marks a golden whose output the run no longer produced:
	// approving it removes the golden.
	Vanished bool
}

// Action is what Approve did with one candidate.
type Action struct {
	Candidate Candidate
	// Op is "created", "updated", "removed" (its output vanished), "kept"
	// (it passed), "unchanged" (the golden already holds these bytes),
	// "skipped" or "refused" (the candidate's PNG does not match its own
	// record).
	Op     string
	Reason string
}

// String renders an action as one terminal line.
func (a Action) String() string {
	s := fmt.Sprintf("%-9s %s (%s/%s)", a.Op, a.Candidate.Case, a.Candidate.Workflow, a.Candidate.File)
	if a.Reason != "" {
		s += ": " + a.Reason
	}
	return s
}

// ApproveOption configures Approve.
type ApproveOption func(*approveOptions)

type approveOptions struct {
	progress func(done, total int, a Action)
}

// WithProgress calls fn after each selected candidate, with the number
// done so far and the number selected.
func WithProgress(fn func(done, total int, a Action)) ApproveOption {
	return func(o *approveOptions) { o.progress = fn }
}

// Approve promotes the selected candidates: those whose verdict is "new" or
// "fail" and whose case id filter matches (nil selects all). A candidate
// that passed is kept, never rewritten; a "new" candidate whose golden
// appeared since the run is skipped rather than overwritten; a candidate
// whose PNG does not hold the pixels its own record describes is refused.
// Approve first recovers what an interrupted approve left (Recover) and
// holds the class's lock throughout. It returns one action per selected
// candidate, in order, and stops at the first write error.
func (s Store) Approve(cands []Candidate, filter *regexp.Regexp, opts ...ApproveOption) ([]Action, error) {
	var o approveOptions
	for _, opt := range opts {
		opt(&o)
	}
	var sel []Candidate
	for _, c := range cands {
		if filter == nil || filter.MatchString(c.Case) {
			sel = append(sel, c)
		}
	}
	if len(sel) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(s.Dir(), 0o755); err != nil {
		return nil, fmt.Errorf("create golden directory: %w", err)
	}
	unlock, err := lockDir(s.Dir())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := s.recoverLocked(); err != nil {
		return nil, err
	}
	var acts []Action
	for i, c := range sel {
		a, err := s.approveOne(c)
		if err != nil {
			return acts, fmt.Errorf("approve %s: %w", c.Case, err)
		}
		acts = append(acts, a)
		if o.progress != nil {
			o.progress(i+1, len(sel), a)
		}
	}
	return acts, nil
}

func (s Store) approveOne(c Candidate) (Action, error) {
	a := Action{Candidate: c}
	switch c.Verdict {
	case "pass", "pass~":
		a.Op, a.Reason = "kept", "passed ("+c.Verdict+"); a golden that passed is never rewritten"
		return a, nil
	case "new", "fail":
	default:
		a.Op, a.Reason = "skipped", "verdict "+c.Verdict+" has no candidate to approve"
		return a, nil
	}
	if c.Vanished && c.Verdict == "fail" {
		if err := removePair(filepath.Join(s.Dir(), c.Workflow), c.File); err != nil {
			return a, err
		}
		a.Op, a.Reason = "removed", "the output no longer exists"
		return a, nil
	}
	if c.PNG == "" || c.Record == "" {
		a.Op, a.Reason = "skipped", "the run kept no candidate files"
		return a, nil
	}
	op, reason, err := s.promote(c)
	a.Op, a.Reason = op, reason
	return a, err
}

func (s Store) promote(c Candidate) (op, reason string, err error) {
	png, err := os.ReadFile(c.PNG)
	if err != nil {
		return "", "", fmt.Errorf("read candidate: %w", err)
	}
	rec, err := os.ReadFile(c.Record)
	if err != nil {
		return "", "", fmt.Errorf("read candidate record: %w", err)
	}
	if _, err := DecodeRecord(rec); err != nil {
		return "", "", fmt.Errorf("candidate %s: %w", c.Record, err)
	}
	if err := CheckPair(png, rec); err != nil {
		return "refused", fmt.Sprintf("candidate %s does not match its record %s: %v", c.PNG, c.Record, err), nil
	}
	pngPath, recPath := s.PNGPath(c.Workflow, c.File), s.RecordPath(c.Workflow, c.File)
	old, oerr := os.ReadFile(pngPath)
	exists := oerr == nil
	if exists && bytes.Equal(old, png) {
		oldRec, _ := os.ReadFile(recPath)
		if bytes.Equal(oldRec, rec) {
			return "unchanged", "", nil
		}
	}
	if exists && c.Verdict == "new" {
		return "skipped", "a golden was created after this run; re-run before approving", nil
	}
	if err := writePair(filepath.Dir(pngPath), c.File, png, rec); err != nil {
		return "", "", err
	}
	if exists {
		return "updated", strings.TrimSpace("was " + c.Verdict), nil
	}
	return "created", "", nil
}
