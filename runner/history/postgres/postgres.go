// Package postgres implements history.Store on a PostgreSQL server
// (github.com/jackc/pgx/v5): one history shared by many CI machines and the
// in-cluster CronJob, at --history postgres://user@host/db.
package postgres

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/internal/sqlstore"
)

// ConnectTimeout bounds the first connection when the URL sets none.
const ConnectTimeout = 10 * time.Second

// schemaLock is the advisory lock key that serialises migrations.
const schemaLock = 0x7265_6765_6e // "regen"

var dialect = sqlstore.Dialect{
	Name:   "postgres",
	Serial: "BIGSERIAL PRIMARY KEY",
	Dollar: true,
	Lock:   fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", schemaLock),
	Tables: `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
}

// Redact returns dsn without its password, for messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// Open connects to the server at dsn (a postgres:// URL) and migrates the
// database to the current schema. A server that does not answer is
// history.ErrUnreachable, naming the URL (without its password).
func Open(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	name := Redact(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse history url %s: %w", name, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = ConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %s: %w: %v", name, history.ErrUnreachable, err)
	}
	s, err := sqlstore.Open(ctx, db, dialect, name)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
