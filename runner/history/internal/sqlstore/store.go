package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/regen-dev/regen/runner/history"
)

// Store is history.Store over a database/sql handle.
type Store struct {
	db   *sql.DB
	d    Dialect
	name string
}

var _ history.Store = (*Store)(nil)

// Open migrates db to the current schema and returns the store; name
// describes it in errors. On error db is left open for the caller to close.
func Open(ctx context.Context, db *sql.DB, d Dialect, name string) (*Store, error) {
	if err := migrate(ctx, db, d, name); err != nil {
		return nil, err
	}
	return &Store{db: db, d: d, name: name}, nil
}

// DB is the underlying handle (tests inspect it).
func (s *Store) DB() *sql.DB { return s.db }

// Describe names the store.
func (s *Store) Describe() string { return s.name }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CombinedHash folds per-output hashes into one (sorted by file), "" when
// every hash is empty; the hash of a single output is that output's hash.
func CombinedHash(files, hashes []string) string {
	type fh struct{ f, h string }
	var xs []fh
	any := false
	for i := range files {
		xs = append(xs, fh{files[i], hashes[i]})
		any = any || hashes[i] != ""
	}
	if !any {
		return ""
	}
	if len(xs) == 1 {
		return xs[0].h
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i].f < xs[j].f })
	h := sha256.New()
	for _, x := range xs {
		fmt.Fprintf(h, "%s=%s\n", x.f, x.h)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Record stores r in one transaction.
func (s *Store) Record(ctx context.Context, r *history.Run) error {
	return s.RecordAll(ctx, []*history.Run{r})
}

// RecordAll stores runs in one transaction (all or none), with multi-row
// inserts: the bulk path of imports and benchmarks.
func (s *Store) RecordAll(ctx context.Context, runs []*history.Run) error {
	if len(runs) == 0 {
		return nil
	}
	what := "run " + runs[0].ID
	if len(runs) > 1 {
		what = fmt.Sprintf("%d runs", len(runs))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.d.classify(s.name, fmt.Errorf("record %s in %s: %w", what, s.name, err))
	}
	defer tx.Rollback()
	var cases, outs rows
	for _, r := range runs {
		if r.ID == "" {
			return errors.New("record run: empty run id")
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind("SELECT COUNT(*) FROM runs WHERE id = ?"), r.ID).Scan(&n); err != nil {
			return s.d.classify(s.name, fmt.Errorf("record run %s in %s: %w", r.ID, s.name, err))
		}
		if n > 0 {
			return fmt.Errorf("record run %s in %s: %w", r.ID, s.name, history.ErrRunExists)
		}
		_, err = tx.ExecContext(ctx, s.d.rebind(`INSERT INTO runs (id, started, finished, commit_hash, parents, subject,
			author_date, dirty, diff_hash, suite_hash, environment, target, fingerprint, source, error, wall_seconds)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			r.ID, nanos(r.Started), nanos(r.Finished), r.Commit, strings.Join(r.Parents, " "), r.Subject,
			nanos(r.AuthorDate), b2i(r.Dirty), r.DiffHash, r.SuiteHash, r.Environment, r.Target, r.Fingerprint,
			r.Source, r.Error, r.WallSeconds)
		if err != nil {
			return fmt.Errorf("record run %s in %s: %w", r.ID, s.name, err)
		}
		for _, c := range r.Cases {
			files := make([]string, len(c.Outputs))
			px := make([]string, len(c.Outputs))
			gd := make([]string, len(c.Outputs))
			for i, o := range c.Outputs {
				files[i], px[i], gd[i] = o.File, o.PixelHash, o.GoldenHash
			}
			cases = append(cases, []any{r.ID, c.ID, c.Workflow, c.Verdict, c.Tier, c.Reason,
				CombinedHash(files, px), CombinedHash(files, gd), c.ReplaySeconds, c.CompareSeconds, c.TotalSeconds,
				encodeMetrics(caseMetrics(c.Outputs))})
			for _, o := range c.Outputs {
				m, err := json.Marshal(o.Metrics)
				if err != nil {
					return fmt.Errorf("encode metrics of %s: %w", c.ID, err)
				}
				outs = append(outs, []any{r.ID, c.ID, o.File, o.Verdict, o.Tier, o.PixelHash, o.GoldenHash, string(m), o.Image})
			}
		}
	}
	if err := s.insert(ctx, tx, `INSERT INTO cases (run_id, case_id, workflow, verdict, tier, reason, output_hash,
		golden_hash, replay_seconds, compare_seconds, total_seconds, metrics) VALUES `, cases); err != nil {
		return fmt.Errorf("record cases of %s in %s: %w", what, s.name, err)
	}
	if err := s.insert(ctx, tx, `INSERT INTO outputs (run_id, case_id, file, verdict, tier, pixel_hash, golden_hash,
		metrics, image) VALUES `, outs); err != nil {
		return fmt.Errorf("record outputs of %s in %s: %w", what, s.name, err)
	}
	if err := tx.Commit(); err != nil {
		return s.d.classify(s.name, fmt.Errorf("record %s in %s: %w", what, s.name, err))
	}
	return nil
}

type rows [][]any

// insert runs head with the rows as multi-row VALUES, in batches.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, head string, all rows) error {
	const batch = 200
	for lo := 0; lo < len(all); lo += batch {
		part := all[lo:min(lo+batch, len(all))]
		tuple := "(?" + strings.Repeat(", ?", len(part[0])-1) + ")"
		q := head + tuple + strings.Repeat(", "+tuple, len(part)-1)
		args := make([]any, 0, len(part)*len(part[0]))
		for _, r := range part {
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// Run reads back one run.
func (s *Store) Run(ctx context.Context, id string) (*history.Run, error) {
	r := &history.Run{ID: id}
	var started, finished, author int64
	var parents string
	var dirty int
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT started, finished, commit_hash, parents, subject, author_date,
		dirty, diff_hash, suite_hash, environment, target, fingerprint, source, error, wall_seconds FROM runs WHERE id = ?`), id).
		Scan(&started, &finished, &r.Commit, &parents, &r.Subject, &author, &dirty, &r.DiffHash, &r.SuiteHash,
			&r.Environment, &r.Target, &r.Fingerprint, &r.Source, &r.Error, &r.WallSeconds)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read run %s from %s: %w", id, s.name, history.ErrNotFound)
	}
	if err != nil {
		return nil, s.d.classify(s.name, fmt.Errorf("read run %s from %s: %w", id, s.name, err))
	}
	r.Started, r.Finished, r.AuthorDate = fromNanos(started), fromNanos(finished), fromNanos(author)
	r.Parents, r.Dirty = strings.Fields(parents), dirty != 0
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT case_id, workflow, verdict, tier, reason, replay_seconds,
		compare_seconds, total_seconds FROM cases WHERE run_id = ? ORDER BY case_id`), id)
	if err != nil {
		return nil, fmt.Errorf("read cases of run %s: %w", id, err)
	}
	defer rows.Close()
	index := map[string]int{}
	for rows.Next() {
		var c history.Case
		if err := rows.Scan(&c.ID, &c.Workflow, &c.Verdict, &c.Tier, &c.Reason, &c.ReplaySeconds, &c.CompareSeconds, &c.TotalSeconds); err != nil {
			return nil, fmt.Errorf("read cases of run %s: %w", id, err)
		}
		index[c.ID] = len(r.Cases)
		r.Cases = append(r.Cases, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cases of run %s: %w", id, err)
	}
	orows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT case_id, file, verdict, tier, pixel_hash, golden_hash, metrics, image
		FROM outputs WHERE run_id = ? ORDER BY case_id, file`), id)
	if err != nil {
		return nil, fmt.Errorf("read outputs of run %s: %w", id, err)
	}
	defer orows.Close()
	for orows.Next() {
		var cid, m string
		var o history.Output
		if err := orows.Scan(&cid, &o.File, &o.Verdict, &o.Tier, &o.PixelHash, &o.GoldenHash, &m, &o.Image); err != nil {
			return nil, fmt.Errorf("read outputs of run %s: %w", id, err)
		}
		if err := json.Unmarshal([]byte(m), &o.Metrics); err != nil {
			return nil, fmt.Errorf("decode metrics of %s in run %s: %w: %v", cid, id, history.ErrCorrupt, err)
		}
		i, ok := index[cid]
		if !ok {
			return nil, fmt.Errorf("read run %s: %w: output of unknown case %s", id, history.ErrCorrupt, cid)
		}
		r.Cases[i].Outputs = append(r.Cases[i].Outputs, o)
	}
	return r, orows.Err()
}

// where returns q as SQL conditions on runs r, joined by prefix (WHERE or
// AND), and their arguments.
func where(q history.Query, prefix string) (string, []any) {
	var conds []string
	var args []any
	if q.Environment != "" {
		conds, args = append(conds, "r.environment = ?"), append(args, q.Environment)
	}
	if q.Source == "" {
		conds = append(conds, "r.source NOT LIKE '"+history.SourceBisect+"%'")
	} else {
		conds, args = append(conds, "r.source = ?"), append(args, q.Source)
	}
	return " " + prefix + " " + strings.Join(conds, " AND "), args
}

// Commits lists the recorded commits in the order first recorded.
func (s *Store) Commits(ctx context.Context, q history.Query) ([]history.Commit, error) {
	cond, args := where(q, "WHERE")
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT r.commit_hash, r.parents, r.subject, r.author_date, r.started
		FROM runs r`+cond+` ORDER BY r.seq`), args...)
	if err != nil {
		return nil, s.d.classify(s.name, fmt.Errorf("list commits in %s: %w", s.name, err))
	}
	defer rows.Close()
	var out []history.Commit
	index := map[string]int{}
	for rows.Next() {
		var hash, parents, subject string
		var author, started int64
		if err := rows.Scan(&hash, &parents, &subject, &author, &started); err != nil {
			return nil, fmt.Errorf("list commits in %s: %w", s.name, err)
		}
		i, ok := index[hash]
		if !ok {
			i = len(out)
			index[hash] = i
			out = append(out, history.Commit{Commit: hash, FirstRecorded: fromNanos(started)})
		}
		c := &out[i]
		c.Parents, c.Subject, c.AuthorDate = strings.Fields(parents), subject, fromNanos(author)
		c.LastRecorded = fromNanos(started)
		c.Runs++
	}
	return out, rows.Err()
}

const stateCols = `c.case_id, r.commit_hash, r.subject, r.id, r.started, c.verdict, c.tier, c.output_hash, c.golden_hash, c.total_seconds, c.metrics`

func scanState(rows *sql.Rows) (history.State, error) {
	var st history.State
	var started int64
	var m string
	err := rows.Scan(&st.Case, &st.Commit, &st.Subject, &st.RunID, &started, &st.Verdict, &st.Tier, &st.OutputHash, &st.GoldenHash, &st.Seconds, &m)
	if err != nil {
		return st, err
	}
	st.Recorded = fromNanos(started)
	if st.Metrics, err = decodeMetrics(m); err != nil {
		return st, fmt.Errorf("decode metrics of %s in run %s: %w: %v", st.Case, st.RunID, history.ErrCorrupt, err)
	}
	return st, nil
}

// States returns each case's latest state per commit.
func (s *Store) States(ctx context.Context, q history.Query, commits []string) (map[string][]history.State, error) {
	out := map[string][]history.State{}
	if len(commits) > 1000 {
		return s.allStates(ctx, q, commits)
	}
	const chunk = 200
	for lo := 0; lo < len(commits); lo += chunk {
		part := commits[lo:min(lo+chunk, len(commits))]
		args := make([]any, 0, len(part)+1)
		for _, c := range part {
			args = append(args, c)
		}
		cond, eargs := where(q, "AND")
		args = append(args, eargs...)
		rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+stateCols+` FROM cases c JOIN runs r ON r.id = c.run_id
			WHERE r.commit_hash IN (?`+strings.Repeat(", ?", len(part)-1)+`)`+cond+` ORDER BY r.seq`), args...)
		if err != nil {
			return nil, s.d.classify(s.name, fmt.Errorf("read states from %s: %w", s.name, err))
		}
		latest := map[string]map[string]history.State{}
		for rows.Next() {
			st, err := scanState(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read states from %s: %w", s.name, err)
			}
			if latest[st.Commit] == nil {
				latest[st.Commit] = map[string]history.State{}
			}
			latest[st.Commit][st.Case] = st // rows come in record order: the last wins
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read states from %s: %w", s.name, err)
		}
		for commit, m := range latest {
			ids := make([]string, 0, len(m))
			for id := range m {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			list := make([]history.State, 0, len(ids))
			for _, id := range ids {
				list = append(list, m[id])
			}
			out[commit] = list
		}
	}
	return out, nil
}

// caseMetrics is a case's metrics as its timeline shows them: its output's,
// or with several outputs each prefixed by the output file.
func caseMetrics(outs []history.Output) map[string]float64 {
	m := map[string]float64{}
	for _, o := range outs {
		for k, v := range o.Metrics {
			if len(outs) > 1 {
				k = o.File + ":" + k
			}
			m[k] = v
		}
	}
	return m
}

// Timeline returns every recorded state of one case, oldest first, with
// its metrics (kept on the case row at record time, so that this is one
// indexed read of the case's rows).
func (s *Store) Timeline(ctx context.Context, q history.Query, caseID string) ([]history.State, error) {
	cond, args := where(q, "AND")
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+stateCols+`
		FROM cases c JOIN runs r ON r.id = c.run_id
		WHERE c.case_id = ?`+cond+` ORDER BY r.seq`), append([]any{caseID}, args...)...)
	if err != nil {
		return nil, s.d.classify(s.name, fmt.Errorf("read timeline of %s from %s: %w", caseID, s.name, err))
	}
	defer rows.Close()
	var out []history.State
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, fmt.Errorf("read timeline of %s: %w", caseID, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read timeline of %s: %w", caseID, err)
	}
	return out, nil
}

// allStates is States for a long list of commits: one scan of every case
// row, filtered here, instead of many IN lists.
func (s *Store) allStates(ctx context.Context, q history.Query, commits []string) (map[string][]history.State, error) {
	want := make(map[string]bool, len(commits))
	for _, c := range commits {
		want[c] = true
	}
	cond, args := where(q, "WHERE")
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+stateCols+` FROM cases c JOIN runs r ON r.id = c.run_id`+cond+` ORDER BY r.seq`), args...)
	if err != nil {
		return nil, s.d.classify(s.name, fmt.Errorf("read states from %s: %w", s.name, err))
	}
	defer rows.Close()
	latest := map[string]map[string]int{}
	out := map[string][]history.State{}
	for rows.Next() {
		st, err := scanState(rows)
		if err != nil {
			return nil, fmt.Errorf("read states from %s: %w", s.name, err)
		}
		if !want[st.Commit] {
			continue
		}
		m := latest[st.Commit]
		if m == nil {
			m = map[string]int{}
			latest[st.Commit] = m
		}
		if i, ok := m[st.Case]; ok {
			out[st.Commit][i] = st // a later run of the same commit wins
			continue
		}
		m[st.Case] = len(out[st.Commit])
		out[st.Commit] = append(out[st.Commit], st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read states from %s: %w", s.name, err)
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].Case < list[j].Case })
	}
	return out, nil
}

// Analyze refreshes the query planner's statistics (after a bulk import:
// PostgreSQL's autovacuum would get there, later).
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze %s: %w", s.name, err)
	}
	return nil
}

// encodeMetrics renders a case's metrics for its row: "name=value" lines
// sorted by name (read back on every timeline row, so cheaper to parse
// than JSON).
func encodeMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(m[k], 'g', -1, 64))
		b.WriteByte('\n')
	}
	return b.String()
}

// decodeMetrics parses encodeMetrics's text; nil for none.
func decodeMetrics(s string) (map[string]float64, error) {
	if s == "" {
		return nil, nil
	}
	m := make(map[string]float64, strings.Count(s, "\n"))
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		eq := strings.LastIndexByte(line, '=')
		if eq < 0 {
			return nil, fmt.Errorf("metric line %q", line)
		}
		v, err := strconv.ParseFloat(line[eq+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		m[line[:eq]] = v
	}
	return m, nil
}

// Images returns the kept images of the outputs recorded at commits.
func (s *Store) Images(ctx context.Context, q history.Query, commits []string) (map[string]bool, error) {
	out := map[string]bool{}
	const chunk = 200
	for lo := 0; lo < len(commits); lo += chunk {
		part := commits[lo:min(lo+chunk, len(commits))]
		args := make([]any, 0, len(part)+2)
		for _, c := range part {
			args = append(args, c)
		}
		cond, eargs := where(q, "AND")
		rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT DISTINCT o.image FROM outputs o JOIN runs r ON r.id = o.run_id
			WHERE o.image <> '' AND r.commit_hash IN (?`+strings.Repeat(", ?", len(part)-1)+`)`+cond), append(args, eargs...)...)
		if err != nil {
			return nil, s.d.classify(s.name, fmt.Errorf("read kept images from %s: %w", s.name, err))
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read kept images from %s: %w", s.name, err)
			}
			out[h] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read kept images from %s: %w", s.name, err)
		}
	}
	return out, nil
}
