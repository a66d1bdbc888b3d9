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

	"github.com/regen-dev/regen/internal/atomicfile"
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

// Load reads the golden of a case file. A golden whose PNG or record is
// absent is ErrMissing.
func (s Store) Load(workflow, file string) (*Golden, error) {
	png, err := os.ReadFile(s.PNGPath(workflow, file))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load golden %s/%s: %w", workflow, file, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("load golden: %w", err)
	}
	rb, err := os.ReadFile(s.RecordPath(workflow, file))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load golden %s/%s: record: %w", workflow, file, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("load golden: %w", err)
	}
	rec, err := DecodeRecord(rb)
	if err != nil {
		return nil, fmt.Errorf("load golden %s/%s: %w", workflow, file, err)
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
	// (it passed), "unchanged" (the golden already holds these bytes) or
	// "skipped".
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

// Approve promotes the selected candidates: those whose verdict is "new" or
// "fail" and whose case id filter matches (nil selects all). A candidate
// that passed is kept, never rewritten; a "new" candidate whose golden
// appeared since the run is skipped rather than overwritten. It returns
// one action per candidate, in order, and stops at the first write error.
func (s Store) Approve(cands []Candidate, filter *regexp.Regexp) ([]Action, error) {
	var acts []Action
	for _, c := range cands {
		if filter != nil && !filter.MatchString(c.Case) {
			continue
		}
		a := Action{Candidate: c}
		switch c.Verdict {
		case "pass", "pass~":
			a.Op, a.Reason = "kept", "passed ("+c.Verdict+"); a golden that passed is never rewritten"
			acts = append(acts, a)
			continue
		case "new", "fail":
		default:
			a.Op, a.Reason = "skipped", "verdict "+c.Verdict+" has no candidate to approve"
			acts = append(acts, a)
			continue
		}
		if c.Vanished && c.Verdict == "fail" {
			if err := s.remove(c); err != nil {
				return acts, fmt.Errorf("approve %s: %w", c.Case, err)
			}
			a.Op, a.Reason = "removed", "the output no longer exists"
			acts = append(acts, a)
			continue
		}
		if c.PNG == "" || c.Record == "" {
			a.Op, a.Reason = "skipped", "the run kept no candidate files"
			acts = append(acts, a)
			continue
		}
		op, reason, err := s.promote(c)
		if err != nil {
			return acts, fmt.Errorf("approve %s: %w", c.Case, err)
		}
		a.Op, a.Reason = op, reason
		acts = append(acts, a)
	}
	return acts, nil
}

// remove deletes a golden: the PNG first (a golden without its PNG is
// missing), then its record.
func (s Store) remove(c Candidate) error {
	for _, p := range []string{s.PNGPath(c.Workflow, c.File), s.RecordPath(c.Workflow, c.File)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove golden: %w", err)
		}
	}
	return nil
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
	// Each file is replaced atomically: the PNG first, then its record.
	if err := atomicfile.WriteFile(pngPath, png, 0o644); err != nil {
		return "", "", err
	}
	if err := atomicfile.WriteFile(recPath, rec, 0o644); err != nil {
		return "", "", err
	}
	if exists {
		return "updated", strings.TrimSpace("was " + c.Verdict), nil
	}
	return "created", "", nil
}
