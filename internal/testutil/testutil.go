package testutil

import (
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Logger returns a logger that discards everything.
func Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

var update = flag.Bool("update", false, "rewrite the golden files from the current output instead of comparing")

// Update reports whether the test binary runs with -update.
func Update() bool { return *update }

// ReadGolden returns the golden file at path. With -update it first writes
// got there (creating its directory). A golden that cannot be read fails the
// test, naming regen, the command that makes it.
func ReadGolden(tb testing.TB, path string, got []byte, regen string) []byte {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatalf("update golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatalf("update golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden %s (regenerate with %s): %v", path, regen, err)
	}
	return want
}

// The module this package belongs to: RepoRoot looks for its go.mod.
const module = "module github.com/regen-dev/regen\n"

var (
	rootOnce sync.Once
	root     string
	rootErr  error
)

// RepoRoot returns the repository root (the directory of the module's
// go.mod), found by walking up from the working directory, which go test
// sets to the package's directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	rootOnce.Do(func() { root, rootErr = findRoot() })
	if rootErr != nil {
		tb.Fatalf("find repository root: %v", rootErr)
	}
	return root
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), module) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/regen-dev/regen above the working directory")
		}
		dir = parent
	}
}

// Path returns the absolute path of elem under the repository root, e.g.
// Path(t, "fixtures", "suite.yaml") or Path(t, "runner", "testdata").
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{RepoRoot(tb)}, elem...)...)
}
