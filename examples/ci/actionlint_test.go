package ci_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// lint runs actionlint (as a library: no shellcheck, no network) over one
// workflow file and returns its errors.
func lint(t *testing.T, path string) []*actionlint.Error {
	t.Helper()
	cfg, err := filepath.Abs("actionlint.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{WorkingDir: filepath.Dir(path), ConfigFile: cfg})
	if err != nil {
		t.Fatalf("actionlint: %v", err)
	}
	errs, err := l.LintFile(path, nil)
	if err != nil {
		t.Fatalf("actionlint %s: %v", path, err)
	}
	return errs
}

// TestNightlyExamplePassesActionlint: the example must be a workflow that
// GitHub accepts.
func TestNightlyExamplePassesActionlint(t *testing.T) {
	t.Parallel()
	for _, e := range lint(t, "github-actions-nightly.yml") {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// TestActionlintRejectsRunnerContextInJobEnv: the check can fail — the
// mistake the example used to make (the runner context in a job-level env,
// where it does not exist) is reported.
func TestActionlintRejectsRunnerContextInJobEnv(t *testing.T) {
	t.Parallel()
	bad := `name: bad
on: workflow_dispatch
jobs:
  gpu:
    runs-on: ubuntu-24.04
    env:
      KUBECONFIG: ${{ runner.temp }}/kubeconfig
    steps:
      - run: echo "$KUBECONFIG"
`
	path := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	errs := lint(t, path)
	found := false
	for _, e := range errs {
		found = found || strings.Contains(e.Message, "runner")
	}
	if !found {
		t.Errorf("actionlint did not reject ${{ runner.temp }} in a job-level env: %v", errs)
	}
}

// TestNightlyExampleKeepsTheHistory: the cpu lane records into a history
// that the cache carries from run to run.
func TestNightlyExampleKeepsTheHistory(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("github-actions-nightly.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{"--history out/history.db", "actions/cache/restore@", "actions/cache/save@",
		"regen report history", "REGEN_HISTORY: ${{ secrets.REGEN_HISTORY_URL }}"} {
		if !strings.Contains(s, want) {
			t.Errorf("the nightly example lacks %q", want)
		}
	}
}
