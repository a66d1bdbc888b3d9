// Package sqlite implements history.Store in a SQLite file (modernc.org/
// sqlite, pure Go): write-ahead logging, a busy timeout so that two runs
// recording at once wait for each other, and one transaction per run so that
// a run killed mid-write leaves the store as it was before that run.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/internal/sqlstore"
)

// BusyTimeout is how long a writer waits for another to finish.
const BusyTimeout = 30 * time.Second

// Options tune Open.
type Options struct {
	// Create makes the file (and its folder) when it does not exist;
	// otherwise a missing file is history.ErrNotFound.
	Create bool
}

var dialect = sqlstore.Dialect{
	Name:     "sqlite",
	Serial:   "INTEGER PRIMARY KEY AUTOINCREMENT",
	Tables:   `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
	Classify: classify,
}

// classify names SQLite's "not a database" and "malformed" errors as
// history.ErrCorrupt.
func classify(name string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("%w (%s): %w", history.ErrCorrupt, name, err)
		}
	}
	return err
}

// Open opens (with opts.Create, creates) the history store at path and
// migrates it to the current schema.
func Open(ctx context.Context, path string, opts Options) (*sqlstore.Store, error) {
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open history %s: %w", path, err)
		}
		if !opts.Create {
			return nil, fmt.Errorf("open history %s: %w: no store at that path", path, history.ErrNotFound)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create history folder: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "cache_size(-65536)") // 64 MiB: history reads scan a case's runs
	q.Add("_pragma", "mmap_size(268435456)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %s: %w", path, classify(path, err))
	}
	s, err := sqlstore.Open(ctx, db, dialect, path)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Check runs SQLite's integrity check on the store (tests and `regen
// history check`): nil when the file is consistent.
func Check(ctx context.Context, s *sqlstore.Store) error {
	rows, err := s.DB().QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("check %s: %w", s.Describe(), err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("check %s: %w", s.Describe(), err)
		}
		msgs = append(msgs, m)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("check %s: %w: %v", s.Describe(), history.ErrCorrupt, msgs)
	}
	return rows.Err()
}
