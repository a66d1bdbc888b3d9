package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/regen-dev/regen/runner/history"
)

// schemaTable holds the schema version (one row).
const schemaTable = "regen_history_schema"

// schema returns the schema's migrations in order: entry v-1 takes the
// store from version v-1 to v. Never edit a released entry; append one.
// "{{serial}}" is the dialect's auto-increment primary key.
func schema(d Dialect) [][]string {
	v1 := []string{
		`CREATE TABLE runs (
			seq {{serial}},
			id TEXT NOT NULL UNIQUE,
			started BIGINT NOT NULL,
			finished BIGINT NOT NULL,
			commit_hash TEXT NOT NULL,
			parents TEXT NOT NULL,
			subject TEXT NOT NULL,
			author_date BIGINT NOT NULL,
			dirty INTEGER NOT NULL,
			diff_hash TEXT NOT NULL,
			suite_hash TEXT NOT NULL,
			environment TEXT NOT NULL,
			target TEXT NOT NULL,
			fingerprint TEXT NOT NULL,
			source TEXT NOT NULL,
			error TEXT NOT NULL,
			wall_seconds DOUBLE PRECISION NOT NULL)`,
		`CREATE INDEX runs_commit ON runs (commit_hash)`,
		`CREATE TABLE cases (
			run_id TEXT NOT NULL REFERENCES runs (id),
			case_id TEXT NOT NULL,
			workflow TEXT NOT NULL,
			verdict TEXT NOT NULL,
			tier TEXT NOT NULL,
			reason TEXT NOT NULL,
			output_hash TEXT NOT NULL,
			golden_hash TEXT NOT NULL,
			replay_seconds DOUBLE PRECISION NOT NULL,
			compare_seconds DOUBLE PRECISION NOT NULL,
			total_seconds DOUBLE PRECISION NOT NULL,
			metrics TEXT NOT NULL,
			PRIMARY KEY (run_id, case_id))`,
		`CREATE INDEX cases_case ON cases (case_id)`,
		`CREATE TABLE outputs (
			run_id TEXT NOT NULL REFERENCES runs (id),
			case_id TEXT NOT NULL,
			file TEXT NOT NULL,
			verdict TEXT NOT NULL,
			tier TEXT NOT NULL,
			pixel_hash TEXT NOT NULL,
			golden_hash TEXT NOT NULL,
			metrics TEXT NOT NULL,
			PRIMARY KEY (run_id, case_id, file))`,
		`CREATE INDEX outputs_case ON outputs (case_id)`,
	}
	// v2: the content hash of each output's PNG, when the images are kept.
	v2 := []string{
		`ALTER TABLE outputs ADD COLUMN image TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX outputs_image ON outputs (image)`,
	}
	all := [][]string{v1, v2}
	for _, m := range all {
		for i := range m {
			m[i] = strings.ReplaceAll(m[i], "{{serial}}", d.Serial)
		}
	}
	return all
}

// Version is the schema version this regen writes.
func Version() int { return len(schema(Dialect{})) }

// migrate brings the store at db to the current schema in one transaction
// (serialised against other processes by the dialect's lock). A database
// with tables but no schema table is not a regen history (ErrCorrupt); one
// whose version is ahead of this regen's is ErrNewerSchema. Neither is
// touched.
func migrate(ctx context.Context, db *sql.DB, d Dialect, name string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return d.classify(name, fmt.Errorf("begin migration: %w", err))
	}
	defer tx.Rollback()
	if d.Lock != "" {
		if _, err := tx.ExecContext(ctx, d.Lock); err != nil {
			return d.classify(name, fmt.Errorf("lock schema: %w", err))
		}
	}
	tables, err := d.tables(ctx, tx)
	if err != nil {
		return d.classify(name, fmt.Errorf("list tables: %w", err))
	}
	version := 0
	switch {
	case tables[schemaTable]:
		row := tx.QueryRowContext(ctx, "SELECT version FROM "+schemaTable)
		if err := row.Scan(&version); err != nil {
			return fmt.Errorf("read schema version of %s: %w: %v", name, history.ErrCorrupt, err)
		}
	case len(tables) > 0:
		return fmt.Errorf("open %s: %w: it holds tables but no %s", name, history.ErrCorrupt, schemaTable)
	}
	steps := schema(d)
	if version > len(steps) {
		return fmt.Errorf("open %s: %w: it is at version %d, this regen knows up to %d; upgrade regen",
			name, history.ErrNewerSchema, version, len(steps))
	}
	if version == len(steps) {
		return nil
	}
	if version == 0 {
		if _, err := tx.ExecContext(ctx, "CREATE TABLE "+schemaTable+" (version INTEGER NOT NULL)"); err != nil {
			return fmt.Errorf("create schema table in %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+schemaTable+" (version) VALUES (0)"); err != nil {
			return fmt.Errorf("create schema table in %s: %w", name, err)
		}
	}
	for v := version; v < len(steps); v++ {
		for _, stmt := range steps[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate %s to version %d: %w", name, v+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+schemaTable+" SET version = "+fmt.Sprint(len(steps))); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	return nil
}
