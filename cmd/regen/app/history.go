//go:build !regenfast

package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/images"
	"github.com/regen-dev/regen/runner/report"
)

func historyCommand() command {
	return command{summary: "results per commit from the history store; import earlier runs", run: runHistory}
}

type historyFlags struct {
	store, caseID, rev, repo, env string
	limit                         int
	json                          bool
}

func (f *historyFlags) bind(fsName string, s Streams) *flag.FlagSet {
	fs := newFlagSet(fsName, s)
	fs.StringVar(&f.store, "history", historyDefault(), "history store: a SQLite file, or postgres://user@host/db (default $"+HistoryEnv+")")
	fs.StringVar(&f.env, "class", "", "only runs judged against this environment class (default: all)")
	return fs
}

func runHistory(ctx context.Context, s Streams, args []string) error {
	if len(args) > 0 && args[0] == "import" {
		return historyImport(ctx, s, args[1:])
	}
	if len(args) > 0 && args[0] == "prune" {
		return historyPrune(ctx, s, args[1:])
	}
	var f historyFlags
	fs := f.bind("history", s)
	fs.StringVar(&f.caseID, "case", "", "show this case's timeline (commit, verdict, output hash, key metrics) instead")
	fs.StringVar(&f.rev, "rev", "HEAD", "order commits along the first-parent history of this revision")
	fs.StringVar(&f.repo, "repo", ".", "git repository the commits belong to (without git: recording order)")
	fs.IntVar(&f.limit, "limit", 30, "show the last N commits (0: all)")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: regen history [--history PATH|postgres://…] [--case ID] [--limit N] [--json]")
		fmt.Fprintln(s.Err, "       regen history import [--history PATH|postgres://…] RUN_DIR...")
		fmt.Fprintln(s.Err, "       regen history prune [--history PATH|postgres://…] --images DIR --keep N")
		fmt.Fprintln(s.Err, "\nOne line per recorded commit in first-parent order: the counts per verdict and the cases")
		fmt.Fprintln(s.Err, "whose verdict or output changed since the previous recorded commit (first seen here).")
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return &usageError{msg: fmt.Sprintf("history: unexpected argument %q", rest[0]), hint: "regen history --help"}
	}
	if f.store == "" {
		return &usageError{msg: "history: no history store given", hint: "regen history --history out/history.db (or set $" + HistoryEnv + ")"}
	}
	st, err := openHistory(ctx, f.store, false)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer st.Close()
	order, oerr := firstParent(f.repo, f.rev)(ctx)
	if oerr != nil {
		order = nil // not in a repository: recording order
	}
	q := history.Query{Environment: f.env}
	if f.caseID != "" {
		return caseTimeline(ctx, s.Out, st, q, f.caseID, order, f.json)
	}
	lines, err := history.Recent(ctx, st, q, order, f.limit)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if f.json {
		return writeJSON(s.Out, entriesJSON(lines))
	}
	printEntries(s.Out, lines)
	return nil
}

func short(c string) string {
	if len(c) > 10 {
		return c[:10]
	}
	return c
}

var verdictCols = []string{"pass", "pass~", "fail", "error", "new", "skip"}

func printEntries(w io.Writer, lines []history.Entry) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMIT\tPASS\tPASS~\tFAIL\tERROR\tNEW\tSKIP\tSUBJECT")
	for _, e := range lines {
		fmt.Fprintf(tw, "%s", short(e.Commit.Commit))
		for _, v := range verdictCols {
			fmt.Fprintf(tw, "\t%d", e.Counts[v])
		}
		fmt.Fprintf(tw, "\t%s\n", e.Commit.Subject)
		for _, kind := range []string{history.Regressed, history.Fixed, history.Approved, history.Changed, history.Appeared} {
			var ids []string
			for _, c := range e.Changes {
				if c.Kind == kind {
					ids = append(ids, c.Case)
				}
			}
			if len(ids) > 0 {
				fmt.Fprintf(tw, "  %s here:\t%s\n", kind, strings.Join(ids, ", "))
			}
		}
	}
	tw.Flush()
}

type entryJSON struct {
	Commit     string         `json:"commit"`
	Subject    string         `json:"subject"`
	Parents    []string       `json:"parents,omitempty"`
	AuthorDate time.Time      `json:"author_date,omitzero"`
	Runs       int            `json:"runs"`
	Counts     map[string]int `json:"counts"`
	Changes    []changeJSON   `json:"changes"`
}

type changeJSON struct {
	Case       string `json:"case"`
	Kind       string `json:"kind"`
	From       string `json:"from,omitempty"`
	To         string `json:"to"`
	OutputHash string `json:"output_hash,omitempty"`
	GoldenHash string `json:"golden_hash,omitempty"`
}

func entriesJSON(lines []history.Entry) []entryJSON {
	out := make([]entryJSON, 0, len(lines))
	for _, e := range lines {
		j := entryJSON{Commit: e.Commit.Commit, Subject: e.Commit.Subject, Parents: e.Commit.Parents,
			AuthorDate: e.Commit.AuthorDate, Runs: e.Commit.Runs, Counts: e.Counts, Changes: []changeJSON{}}
		for _, c := range e.Changes {
			cj := changeJSON{Case: c.Case, Kind: c.Kind, To: c.To.Verdict, OutputHash: c.To.OutputHash, GoldenHash: c.To.GoldenHash}
			if c.From != nil {
				cj.From = c.From.Verdict
			}
			j.Changes = append(j.Changes, cj)
		}
		out = append(out, j)
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// keyMetrics are the metrics a timeline line shows, when recorded.
var keyMetrics = []string{"colour.mean_delta_e", "structure.hash_bits", "local.window_ratio"}

type timelineJSON struct {
	Commit     string             `json:"commit"`
	Subject    string             `json:"subject"`
	Run        string             `json:"run"`
	Verdict    string             `json:"verdict"`
	Tier       string             `json:"tier,omitempty"`
	OutputHash string             `json:"output_hash,omitempty"`
	GoldenHash string             `json:"golden_hash,omitempty"`
	Transition string             `json:"transition,omitempty"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
}

func caseTimeline(ctx context.Context, w io.Writer, st history.Store, q history.Query, id string, order []string, asJSON bool) error {
	lines, err := history.CaseHistory(ctx, st, q, id, order)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if len(lines) == 0 {
		return fmt.Errorf("history: case %q has no recorded run in %s", id, st.Describe())
	}
	rows := make([]timelineJSON, 0, len(lines))
	for _, l := range lines {
		rows = append(rows, timelineJSON{Commit: l.Commit, Subject: l.Subject, Run: l.RunID, Verdict: l.Verdict, Tier: l.Tier,
			OutputHash: l.OutputHash, GoldenHash: l.GoldenHash, Transition: l.Transition, Metrics: l.Metrics})
	}
	if asJSON {
		return writeJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMIT\tVERDICT\tTIER\tOUTPUT\tGOLDEN\tMETRICS\t\tSUBJECT")
	for _, r := range rows {
		mark := ""
		if r.Transition != "" {
			mark = "<- " + r.Transition
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", short(r.Commit), r.Verdict, dash(r.Tier), dash(short(r.OutputHash)),
			dash(short(r.GoldenHash)), metricsText(r.Metrics), mark, r.Subject)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func metricsText(m map[string]float64) string {
	var parts []string
	for _, k := range keyMetrics {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%.3g", k[strings.LastIndexByte(k, '.')+1:], v))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func historyImport(ctx context.Context, s Streams, args []string) error {
	var f historyFlags
	fs := f.bind("history import", s)
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: regen history import [--history PATH|postgres://…] RUN_DIR...")
		fmt.Fprintln(s.Err, "\nLoads finished runs (their results.json) into the history; a run already there is skipped.")
		fs.PrintDefaults()
	}
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return &usageError{msg: "history import: no run directory given", hint: "regen history import --history out/history.db out/run-*"}
	}
	if f.store == "" {
		return &usageError{msg: "history import: no history store given", hint: "regen history import --history out/history.db " + dirs[0]}
	}
	st, err := openHistory(ctx, f.store, true)
	if err != nil {
		return fmt.Errorf("history import: %w", err)
	}
	defer st.Close()
	// Oldest first, so that recording order follows the runs.
	type loaded struct {
		dir string
		r   *report.Run
	}
	var runs []loaded
	for _, d := range dirs {
		r, err := report.Read(d)
		if err != nil {
			return fmt.Errorf("history import: %w", err)
		}
		runs = append(runs, loaded{d, r})
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].r.Started.Before(runs[j].r.Started) })
	added, skipped := 0, 0
	for _, l := range runs {
		if l.r.Git.Commit == "" {
			fmt.Fprintf(s.Err, "skip %s: the run has no git commit\n", l.dir)
			skipped++
			continue
		}
		err := st.Record(ctx, history.FromReport(l.r, history.SourceImport))
		switch {
		case errors.Is(err, history.ErrRunExists):
			skipped++
		case err != nil:
			return fmt.Errorf("history import %s: %w", filepath.Clean(l.dir), err)
		default:
			added++
		}
	}
	if a, ok := st.(interface{ Analyze(context.Context) error }); ok && added > 0 {
		if err := a.Analyze(ctx); err != nil {
			return fmt.Errorf("history import: %w", err)
		}
	}
	fmt.Fprintf(s.Out, "imported %d run(s) into %s (%d already there or without a commit)\n", added, st.Describe(), skipped)
	return nil
}

// historyPrune is the kept images' retention policy: keep those of the last
// N recorded commits, remove the rest.
func historyPrune(ctx context.Context, s Streams, args []string) error {
	var f historyFlags
	var dir string
	fs := f.bind("history prune", s) // --class is ignored: images are kept per commit, across classes
	fs.StringVar(&dir, "images", "", "the folder of kept images (regen run --history-images)")
	fs.IntVar(&f.limit, "keep", 30, "keep the images of the last N recorded commits")
	fs.StringVar(&f.rev, "rev", "HEAD", "order commits along the first-parent history of this revision")
	fs.StringVar(&f.repo, "repo", ".", "git repository the commits belong to (without git: recording order)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || dir == "" || f.store == "" || f.limit < 1 {
		return &usageError{msg: "history prune: --history, --images and --keep N (N >= 1) are required", hint: "regen history prune --history out/history.db --images out/history-images --keep 30"}
	}
	st, err := openHistory(ctx, f.store, false)
	if err != nil {
		return fmt.Errorf("history prune: %w", err)
	}
	defer st.Close()
	commits, err := st.Commits(ctx, history.Query{})
	if err != nil {
		return fmt.Errorf("history prune: %w", err)
	}
	order, oerr := firstParent(f.repo, f.rev)(ctx)
	if oerr != nil {
		order = nil
	}
	// Commits off the first-parent line (other branches) are kept too:
	// only the recorded order decides what is old.
	arranged := history.Arrange(commits, order)
	keep := map[string]bool{}
	for i := max(0, len(arranged)-f.limit); i < len(arranged); i++ {
		keep[arranged[i].Commit] = true
	}
	onLine := map[string]bool{}
	for _, c := range arranged {
		onLine[c.Commit] = true
	}
	var hashes []string
	for _, c := range commits {
		if keep[c.Commit] || !onLine[c.Commit] {
			hashes = append(hashes, c.Commit)
		}
	}
	refs, err := st.Images(ctx, history.Query{}, hashes)
	if err != nil {
		return fmt.Errorf("history prune: %w", err)
	}
	removed, err := (images.Store{Dir: dir}).Prune(refs)
	if err != nil {
		return fmt.Errorf("history prune: %w", err)
	}
	fmt.Fprintf(s.Out, "kept %d image(s) of the last %d commit(s); removed %d\n", len(refs), f.limit, len(removed))
	return nil
}
