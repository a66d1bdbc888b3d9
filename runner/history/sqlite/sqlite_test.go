package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/historytest"
	"github.com/regen-dev/regen/runner/history/sqlite"
)

// writerEnv makes the test binary a writer process (see TestMain): it
// records runs into the store at $REGEN_HISTORY_WRITER, named with the
// prefix $REGEN_HISTORY_PREFIX, $REGEN_HISTORY_COUNT of them (0: forever),
// printing "recorded N" after each.
const writerEnv = "REGEN_HISTORY_WRITER"

// casesPerRun is how many cases a writer's run has.
const casesPerRun = 30

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		os.Exit(writer(path, os.Getenv("REGEN_HISTORY_PREFIX"), os.Getenv("REGEN_HISTORY_COUNT")))
	}
	os.Exit(m.Run())
}

func writer(path, prefix, count string) int {
	n, _ := strconv.Atoi(count)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{Create: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ids := make([]string, casesPerRun)
	for i := range ids {
		ids[i] = fmt.Sprintf("case-%02d", i)
	}
	for i := 0; n == 0 || i < n; i++ {
		r := historytest.SampleRun(fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("c%d", i), i, "pass", "h", ids...)
		if err := s.Record(ctx, r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Printf("recorded %d\n", i+1)
	}
	return 0
}

func writerCmd(t *testing.T, path, prefix string, count int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+path, "REGEN_HISTORY_PREFIX="+prefix, "REGEN_HISTORY_COUNT="+strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	return cmd
}

func openTemp(t testing.TB) history.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"), sqlite.Options{Create: true})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	historytest.RunConformance(t, openTemp)
}

// consistent checks the store at path: SQLite's integrity check, and every
// run complete (all its cases and outputs, or absent).
func consistent(t *testing.T, path string) int {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen after the writers: %v", err)
	}
	defer s.Close()
	if err := sqlite.Check(ctx, s); err != nil {
		t.Fatalf("integrity: %v", err)
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT r.id, (SELECT COUNT(*) FROM cases c WHERE c.run_id = r.id),
		(SELECT COUNT(*) FROM outputs o WHERE o.run_id = r.id) FROM runs r`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var cases, outs int
		if err := rows.Scan(&id, &cases, &outs); err != nil {
			t.Fatal(err)
		}
		if cases != casesPerRun || outs != casesPerRun+1 {
			t.Errorf("run %s is partial: %d cases, %d outputs; want %d, %d", id, cases, outs, casesPerRun, casesPerRun+1)
		}
		n++
	}
	return n
}

func TestTwoProcessesRecordAtOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.db")
	const each = 15
	a, b := writerCmd(t, path, "a", each), writerCmd(t, path, "b", each)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	errA, errB := a.Wait(), b.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("writers: %v, %v", errA, errB)
	}
	if n := consistent(t, path); n != 2*each {
		t.Errorf("%d runs recorded, want %d", n, 2*each)
	}
}

func TestKilledMidWriteLeavesAConsistentStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.db")
	for round := 0; round < 3; round++ {
		cmd := writerCmd(t, path, fmt.Sprintf("k%d", round), 0)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for i := 0; i < 2 && sc.Scan(); i++ {
		}
		// Kill it while it writes the next runs: a few milliseconds into
		// one of its transactions.
		time.Sleep(time.Duration(3+round*4) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("writer was not killed: %v", err)
		}
	}
	if n := consistent(t, path); n < 6 {
		t.Errorf("%d runs survived, want at least the 6 reported as recorded", n)
	}
}

// TestMigratesAVersion1Store: a store written before the images column
// (schema version 1) is upgraded in place, its runs kept.
func TestMigratesAVersion1Store(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	// Make it what version 1 wrote: no image column, version 1.
	for _, q := range []string{"DROP INDEX outputs_image", "ALTER TABLE outputs DROP COLUMN image", "UPDATE regen_history_schema SET version = 1"} {
		if _, err := s.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO runs (id, started, finished, commit_hash, parents, subject, author_date, dirty,
		diff_hash, suite_hash, environment, target, fingerprint, source, error, wall_seconds)
		VALUES ('old', 1, 2, 'c0', '', 'old run', 0, 0, '', '', 'cpu', 'local', '', 'run', '', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO outputs (run_id, case_id, file, verdict, tier, pixel_hash, golden_hash, metrics)
		VALUES ('old', 'a', 'f', 'pass', 'exact', 'p', 'g', '{}')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen a version 1 store: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.DB().QueryRowContext(ctx, "SELECT version FROM regen_history_schema").Scan(&v); err != nil || v != 2 {
		t.Errorf("schema version %d (%v), want 2", v, err)
	}
	var img string
	if err := s.DB().QueryRowContext(ctx, "SELECT image FROM outputs WHERE run_id = 'old'").Scan(&img); err != nil || img != "" {
		t.Errorf("the old output after the migration: image %q, %v", img, err)
	}
	if err := s.Record(ctx, historytest.SampleRun("new", "c1", 1, "pass", "h", "a")); err != nil {
		t.Errorf("record after the migration: %v", err)
	}
}

func TestRefusesWhatIsNotAHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database\n", 400)), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	s, err := sqlite.Open(ctx, newer, sqlite.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "UPDATE regen_history_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	foreign := filepath.Join(dir, "foreign.db")
	s, err = sqlite.Open(ctx, foreign, sqlite.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "DROP TABLE regen_history_schema"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, tc := range []struct {
		name, path string
		create     bool
		want       error
	}{
		{"garbage", garbage, true, history.ErrCorrupt},
		{"newer schema", newer, true, history.ErrNewerSchema},
		{"tables but no schema version", foreign, true, history.ErrCorrupt},
		{"missing without create", filepath.Join(dir, "absent.db"), false, history.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			s, err := sqlite.Open(ctx, tc.path, sqlite.Options{Create: tc.create})
			if err == nil {
				s.Close()
				t.Fatalf("opened %s", tc.path)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("got %v; want %v naming %s", err, tc.want, tc.path)
			}
			after, _ := os.ReadFile(tc.path)
			if string(before) != string(after) {
				t.Errorf("the refused store was modified")
			}
		})
	}
}
