package postgres_test

import (
	"context"
	"testing"

	"github.com/regen-dev/regen/internal/pgtest"
	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/historytest"
	"github.com/regen-dev/regen/runner/history/postgres"
)

// BenchmarkHistory: `regen history` and `--case` over 10,000 runs × 30
// cases on a real server (populated at the start).
func BenchmarkHistory(b *testing.B) {
	srv := pgtest.Start(b)
	url := srv.CreateDB(b, "bench")
	historytest.RunBenchmarks(b, func(b *testing.B) history.Store {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
