package history

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner/history/images"
	"github.com/regen-dev/regen/runner/report"
)

// RunID is the id a finished run is recorded under: a hash of when and
// where it ran, so that importing the same results.json twice is a no-op.
func RunID(r *report.Run) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%s", r.Started.UnixNano(), r.Git.Commit, r.Target, r.Suite, r.Environment)
	return r.Started.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// FromReport converts a run record (results.json) to a history run.
func FromReport(r *report.Run, source string) *Run {
	out := &Run{
		ID: RunID(r), Started: r.Started.UTC(), Finished: r.Finished.UTC(),
		Commit: r.Git.Commit, Parents: r.Git.Parents, Subject: r.Git.Subject, AuthorDate: r.Git.AuthorDate.UTC(),
		Dirty: r.Git.Dirty, DiffHash: r.Git.DiffHash, SuiteHash: r.SuiteHash, Environment: r.Environment,
		Target: r.Target, Fingerprint: fingerprint(r.Fingerprint), Source: source, Error: r.Error,
		WallSeconds: r.WallSeconds,
	}
	if r.Git.AuthorDate.IsZero() {
		out.AuthorDate = time.Time{}
	}
	if r.Finished.IsZero() {
		out.Finished = time.Time{}
	}
	for _, c := range r.Cases {
		hc := Case{ID: c.ID, Workflow: c.Workflow, Verdict: string(c.Verdict), Tier: c.Tier, Reason: c.Reason,
			ReplaySeconds: c.ReplaySeconds, CompareSeconds: c.CompareSeconds, TotalSeconds: c.TotalSeconds}
		if c.Verdict == report.Error && hc.Reason == "" {
			hc.Reason = c.Error
		}
		for _, o := range c.Outputs {
			px := o.PixelHash
			if px == "" && o.Verdict == report.Pass {
				px = o.GoldenHash // bit-identical to its golden
			}
			hc.Outputs = append(hc.Outputs, Output{File: o.File, Verdict: string(o.Verdict), Tier: o.Tier,
				PixelHash: px, GoldenHash: o.GoldenHash, Metrics: o.Metrics})
		}
		out.Cases = append(out.Cases, hc)
	}
	return out
}

// fingerprint is a short hash of the executor's /system_stats without what
// changes from run to run (free memory, argv): equal executors, equal hash.
func fingerprint(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	v = stable(v)
	b, _ := json.Marshal(v) // map keys sorted: deterministic
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func stable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if k == "argv" || k == "pid" || strings.HasSuffix(k, "_free") || strings.HasSuffix(k, "_total") {
				continue
			}
			out[k] = stable(x)
		}
		return out
	case []any:
		for i := range t {
			t[i] = stable(t[i])
		}
	}
	return v
}

// DefaultTrend is the length of a case's history strip.
const DefaultTrend = 12

// Recorder is the runner's sink (runner.Sink) that records a finished run
// in a Store, then annotates each case that did not pass with where it
// last passed and first failed (report.Case.Since) for the report writers
// after it. Its failure is the run's failure (exit 2): a run that cannot
// be recorded is never a pass.
type Recorder struct {
	Store  Store
	Source string // default SourceRun
	// Order returns the first-parent history, newest first, for the
	// annotation (nil: recording order).
	Order func(ctx context.Context) ([]string, error)
	// BuildCommit is the commit the regen binary was built from; it names
	// a run made outside a git checkout (the in-cluster CronJob), where
	// the run record has no commit. "" refuses such runs.
	BuildCommit string
	// Images, when set, keeps every output's PNG (its candidate, or for an
	// exact pass its golden: the same pixels), content-addressed, and the
	// history strip shows thumbnails of the kept ones.
	Images *images.Store
	// ThumbBudget bounds the bytes of the strip's thumbnails in all
	// (default DefaultThumbBudget); past it, the oldest commits are badges.
	ThumbBudget int
	// Trend is how many recorded commits each case's history strip shows
	// (default DefaultTrend; negative: none).
	Trend int
	// Timeout bounds the recording (default 1 minute); it runs even when
	// the run was interrupted.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Name is "history".
func (rc *Recorder) Name() string { return "history " + rc.Store.Describe() }

// Required is true.
func (rc *Recorder) Required() bool { return true }

// Consume records r and annotates it.
func (rc *Recorder) Consume(ctx context.Context, runDir string, r *report.Run) error {
	ctx = context.WithoutCancel(ctx)
	timeout := rc.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	src := rc.Source
	if src == "" {
		src = SourceRun
	}
	if r.Git.Commit == "" {
		if rc.BuildCommit == "" {
			return fmt.Errorf("record run: no git commit (not a git checkout, and a regen binary without a build commit); run without --history")
		}
		r.Git.Commit, r.Git.Subject = rc.BuildCommit, "regen build "+rc.BuildCommit+" (no git checkout)"
	}
	hr := FromReport(r, src)
	if rc.Images != nil {
		rc.keepImages(runDir, r, hr)
	}
	if err := rc.Store.Record(ctx, hr); err != nil {
		return err
	}
	return rc.annotate(ctx, r)
}

// keepImages puts each output's PNG in rc.Images and notes its hash in hr
// (whose cases and outputs are r's, in order). An image that cannot be read
// is only logged: keeping images is a convenience, the verdicts are not.
func (rc *Recorder) keepImages(runDir string, r *report.Run, hr *Run) {
	for i, c := range r.Cases {
		for j, o := range c.Outputs {
			path := ""
			switch {
			case o.Candidate != "":
				path = filepath.Join(runDir, o.Candidate)
			case o.Verdict == report.Pass && o.Golden != "":
				path = o.Golden
			default:
				continue
			}
			data, err := os.ReadFile(path)
			if err == nil {
				hr.Cases[i].Outputs[j].Image, err = rc.Images.Put(data)
			}
			if err != nil {
				rc.log().Warn("history: keep image", "case", c.ID, "file", o.File, "err", err)
			}
		}
	}
}

func (rc *Recorder) annotate(ctx context.Context, r *report.Run) error {
	var order []string
	if rc.Order != nil {
		o, err := rc.Order(ctx)
		if err != nil {
			rc.log().Warn("history: first-parent order unavailable; using recording order", "err", err)
		} else {
			order = o
		}
	}
	n := rc.Trend
	if n == 0 {
		n = DefaultTrend
	}
	subjects := map[string]string{}
	if n > 0 {
		lines, err := Recent(ctx, rc.Store, Query{Environment: r.Environment}, order, n)
		if err != nil {
			return err
		}
		// Thumbnails newest first, so that a spent budget leaves badges
		// at the oldest commits.
		thumbAt := make([]map[string]string, len(lines))
		if rc.Images != nil {
			thumbs := &Thumbs{Store: rc.Store, Images: *rc.Images, Budget: rc.ThumbBudget}
			for i := len(lines) - 1; i >= 0; i-- {
				thumbAt[i] = map[string]string{}
				for _, st := range lines[i].States {
					uri, err := thumbs.Of(ctx, st)
					if err != nil { // a badge instead: images are a convenience
						rc.log().Warn("history: thumbnail", "case", st.Case, "commit", st.Commit, "err", err)
					}
					thumbAt[i][st.Case] = uri
				}
			}
		}
		trend := map[string][]report.TrendPoint{}
		for i, l := range lines {
			subjects[l.Commit.Commit] = l.Commit.Subject
			for _, st := range l.States {
				trend[st.Case] = append(trend[st.Case], report.TrendPoint{Commit: l.Commit.Commit, Subject: l.Commit.Subject,
					Verdict: st.Verdict, Thumb: thumbAt[i][st.Case]})
			}
		}
		for i := range r.Cases {
			r.Cases[i].Trend = trend[r.Cases[i].ID]
		}
	}
	for i := range r.Cases {
		c := &r.Cases[i]
		if c.Verdict != report.Fail && c.Verdict != report.Error {
			continue
		}
		tl, err := rc.Store.Timeline(ctx, Query{Environment: r.Environment}, c.ID)
		if err != nil {
			return err
		}
		states := LatestPerCommit(tl, order)
		for _, st := range states {
			subjects[st.Commit] = st.Subject
		}
		lp, ff := SinceOf(states)
		c.Since = &report.Since{LastPass: lp, LastPassSubject: subjects[lp], FirstFail: ff, FirstFailSubj: subjects[ff]}
	}
	return nil
}

func (rc *Recorder) log() *slog.Logger {
	if rc.Logger == nil {
		return slog.Default()
	}
	return rc.Logger
}
