package testutil

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoggerDiscards(t *testing.T) {
	t.Parallel()
	l := Logger()
	if l.Enabled(context.Background(), slog.LevelError) {
		t.Error("Logger is enabled at error level; it must discard everything")
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	root := RepoRoot(t)
	if !filepath.IsAbs(root) {
		t.Fatalf("RepoRoot = %q, want an absolute path", root)
	}
	for _, p := range [][]string{{"go.mod"}, {"fixtures", "suite.yaml"}, {"runner", "testdata"}, {"kustomize", "overlays"}} {
		if _, err := os.Stat(Path(t, p...)); err != nil {
			t.Errorf("Path(%v): %v", p, err)
		}
	}
	if want := filepath.Join(root, "internal", "testutil"); Path(t, "internal", "testutil") != want {
		t.Errorf("Path = %q, want %q", Path(t, "internal", "testutil"), want)
	}
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	failed string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.failed = format
}

func TestReadGolden(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("want\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ReadGolden(t, path, []byte("got\n"), "go test -update"); string(got) != "want\n" && !Update() {
		t.Errorf("ReadGolden = %q, want the file's bytes", got)
	}
	ftb := &fatalTB{TB: t}
	if ReadGolden(ftb, filepath.Join(dir, "missing"), nil, "go test ./x -update"); ftb.failed == "" && !Update() {
		t.Error("ReadGolden of a missing golden did not fail the test")
	}
}

func TestLockMachineExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	old := MachineLockPath
	MachineLockPath = path
	t.Cleanup(func() { MachineLockPath = old })
	release, err := LockMachine()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		r, err := LockMachine() // another open file description: blocks
		if err == nil {
			r()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second LockMachine got the lock while the first held it")
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the second LockMachine did not get the lock after the release")
	}
}
