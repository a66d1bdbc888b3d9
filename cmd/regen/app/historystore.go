//go:build !regenfast

package app

import (
	"context"
	"os"
	"os/exec"
	"strings"

	"github.com/regen-dev/regen/internal/version"
	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/postgres"
	"github.com/regen-dev/regen/runner/history/sqlite"
)

// HistoryEnv names the history store when --history is not given.
const HistoryEnv = "REGEN_HISTORY"

// historyDefault is --history's default: $REGEN_HISTORY, else none (a run
// records nothing unless asked, so `make test` and `make e2e` never write
// a history into the checkout).
func historyDefault() string { return os.Getenv(HistoryEnv) }

// isPostgres reports whether spec is a PostgreSQL URL.
func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// openHistory opens the store spec names: a postgres:// URL, else a SQLite
// file (created when create is set; otherwise it must exist). The backend
// is chosen here, in the CLI, never by the library.
func openHistory(ctx context.Context, spec string, create bool) (history.Store, error) {
	if isPostgres(spec) {
		return postgres.Open(ctx, spec)
	}
	return sqlite.Open(ctx, spec, sqlite.Options{Create: create})
}

// buildCommit is the commit regen was built from ("" when unknown): it
// names runs recorded outside a git checkout.
func buildCommit() string {
	switch c := version.Commit(); c {
	case "", "dev", "unknown":
		return ""
	default:
		return c
	}
}

// firstParent returns a function listing the first-parent history of rev
// in the repository at dir, newest first.
func firstParent(dir, rev string) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-list", "--first-parent", rev).Output()
		if err != nil {
			return nil, err
		}
		return strings.Fields(string(out)), nil
	}
}
