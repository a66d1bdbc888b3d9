package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// Dialect is what differs between the SQL backends.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Serial is the DDL of an auto-increment integer primary key.
	Serial string
	// Dollar rewrites "?" placeholders as $1, $2, … (PostgreSQL).
	Dollar bool
	// Lock, when set, is run first in the migration transaction to
	// serialise migrations across processes.
	Lock string
	// Tables lists the tables of the current schema.
	Tables string
	// Classify maps a driver error to the history sentinels (corrupt,
	// unreachable), naming the store; nil leaves err as it is.
	Classify func(name string, err error) error
}

func (d Dialect) classify(name string, err error) error {
	if d.Classify == nil || err == nil {
		return err
	}
	return d.Classify(name, err)
}

// rebind rewrites q's "?" placeholders for the dialect.
func (d Dialect) rebind(q string) string {
	if !d.Dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d Dialect) tables(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, d.Tables)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("scan table name: %w", err)
		}
		out[n] = true
	}
	return out, rows.Err()
}
