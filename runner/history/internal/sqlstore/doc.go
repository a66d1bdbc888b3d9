// Package sqlstore implements history.Store over database/sql for both
// backends (SQLite and PostgreSQL); a Dialect carries what differs. The
// schema is created and upgraded by the migrations in migrate.go.
package sqlstore
