package history

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with the store's name.
var (
	// ErrRunExists: a run with this id is already recorded.
	ErrRunExists = errors.New("run already recorded")
	// ErrNotFound: no such run (or no store at that path).
	ErrNotFound = errors.New("not found")
	// ErrNewerSchema: the store was written by a newer regen.
	ErrNewerSchema = errors.New("history store schema is newer than this regen")
	// ErrCorrupt: the store cannot be read as a regen history.
	ErrCorrupt = errors.New("history store is corrupt or not a regen history")
	// ErrUnreachable: the store's server does not answer.
	ErrUnreachable = errors.New("history store unreachable")
)

// Sources of a recorded run.
const (
	SourceRun    = "run"    // regen run --history
	SourceImport = "import" // regen history import
	SourceBisect = "bisect" // regen bisect
)

// Run is one recorded run.
type Run struct {
	ID       string
	Started  time.Time
	Finished time.Time
	// Commit is the full commit hash; Parents its parents (first parent
	// first); Subject and AuthorDate describe it.
	Commit     string
	Parents    []string
	Subject    string
	AuthorDate time.Time
	// Dirty is set when the working tree had uncommitted changes; DiffHash
	// is then the SHA-256 of `git diff HEAD`.
	Dirty    bool
	DiffHash string
	// SuiteHash identifies the suite file's content; Environment is the
	// golden class; Target where the executor ran; Fingerprint the
	// executor's stable fingerprint (its hash or a short description).
	SuiteHash   string
	Environment string
	Target      string
	Fingerprint string
	// Source says who recorded it (SourceRun, SourceImport, SourceBisect).
	Source string
	// Error is a run-level failure, if any.
	Error       string
	WallSeconds float64
	Cases       []Case
}

// Case is one case of a recorded run.
type Case struct {
	ID       string
	Workflow string
	Verdict  string
	Tier     string
	Reason   string
	// ReplaySeconds, CompareSeconds, TotalSeconds are the case's timings.
	ReplaySeconds  float64
	CompareSeconds float64
	TotalSeconds   float64
	Outputs        []Output
}

// Output is one image of a recorded case.
type Output struct {
	File    string
	Verdict string
	Tier    string
	// PixelHash is the SHA-256 of the decoded pixels of the output;
	// GoldenHash the one of the golden it was judged against ("" if none).
	PixelHash  string
	GoldenHash string
	// Metrics holds every metric of the comparison ("tier.metric").
	Metrics map[string]float64
	// Image is the content hash of the output's PNG when the images are
	// kept (images.Store), "" otherwise.
	Image string
}

// Commit is one recorded commit: what its latest run said about it.
type Commit struct {
	Commit     string
	Parents    []string
	Subject    string
	AuthorDate time.Time
	// FirstRecorded and LastRecorded bound when its runs were recorded;
	// Runs counts them.
	FirstRecorded time.Time
	LastRecorded  time.Time
	Runs          int
}

// State is a case's latest recorded state at one commit.
type State struct {
	Case       string
	Commit     string
	Subject    string // the commit's subject
	RunID      string
	Recorded   time.Time
	Verdict    string
	Tier       string
	OutputHash string // combined pixel hashes of the case's outputs
	GoldenHash string // combined hashes of the goldens it was judged against
	Metrics    map[string]float64
	Seconds    float64
}

// Query narrows a read.
type Query struct {
	// Environment keeps the runs of one golden class ("" = all).
	Environment string
	// Source keeps the runs one source recorded. "" keeps those of `regen
	// run` and imports, never a bisect's (judged against another commit's
	// outputs, not the goldens); BisectSource(good) a bisect's.
	Source string
}

// BisectSource is the source of the runs a bisect from good records.
func BisectSource(good string) string { return SourceBisect + ":" + good }

// Store keeps the history. Implementations are safe for concurrent use by
// one process, and several processes may record into one store at once.
type Store interface {
	// Record stores r in one transaction: all of it, or nothing. It fails
	// with ErrRunExists when r.ID is already recorded.
	Record(ctx context.Context, r *Run) error
	// Run reads back a recorded run (ErrNotFound if absent).
	Run(ctx context.Context, id string) (*Run, error)
	// Commits lists every recorded commit, oldest first recorded first.
	Commits(ctx context.Context, q Query) ([]Commit, error)
	// States returns, per commit of commits, each case's latest recorded
	// state, cases sorted by id.
	States(ctx context.Context, q Query, commits []string) (map[string][]State, error)
	// Timeline returns every recorded state of one case, oldest first
	// (one per run that recorded it).
	Timeline(ctx context.Context, q Query, caseID string) ([]State, error)
	// Images returns the kept images (Output.Image) of the runs recorded
	// at commits: what a retention policy keeps.
	Images(ctx context.Context, q Query, commits []string) (map[string]bool, error)
	// Describe names the store in messages (a path, a URL without password).
	Describe() string
	// Close releases the store.
	Close() error
}
