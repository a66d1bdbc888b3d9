package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/runner/report"
)

// Not parallel: it changes the working directory (latestRun looks in out/).
func TestLatestRun(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"golden", "approve"}, {"report", "html"}} {
		cmd := strings.Join(args, " ")
		code, out := regen(t, args...)
		if code != ExitInfra || !strings.Contains(out, cmd+": no finished run under out/") {
			t.Errorf("%s with no run: exit %d, output %q; want 2 and the command named", cmd, code, out)
		}
	}
	for _, run := range []string{"run-20260102-000000", "run-20260101-235959", "run-20251231-120000"} {
		p := filepath.Join("out", run, report.ResultsFile)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := latestRun("report html", "regen report html RUN_DIR")
	if want := filepath.Join("out", "run-20260102-000000"); err != nil || got != want {
		t.Errorf("latestRun = %q, %v; want %q", got, err, want)
	}
}
