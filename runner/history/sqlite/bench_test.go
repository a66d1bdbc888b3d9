package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/historytest"
	"github.com/regen-dev/regen/runner/history/sqlite"
)

// BenchmarkHistory: `regen history` and `--case` over 10,000 runs × 30
// cases. The populated store is kept in the temp dir between runs
// (regen-bench-history.db; delete it to rebuild).
func BenchmarkHistory(b *testing.B) {
	historytest.RunBenchmarks(b, func(b *testing.B) history.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(os.TempDir(), "regen-bench-history.db"), sqlite.Options{Create: true})
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
