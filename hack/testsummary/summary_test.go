package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
)

// TestRun renders a recorded stream: what plain go test prints (failing
// output, closing lines, build errors, stray lines) and the skip summary.
// Regenerate the golden with go test ./hack/testsummary -update.
func TestRun(t *testing.T) {
	t.Parallel()
	in, err := os.Open(filepath.Join("testdata", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	if err := run(in, &out); err != nil {
		t.Fatal(err)
	}
	want := testutil.ReadGolden(t, filepath.Join("testdata", "summary.golden"), out.Bytes(), "go test ./hack/testsummary -update")
	if out.String() != string(want) {
		t.Errorf("run printed\n%s\nwant\n%s", out.String(), want)
	}
	for _, never := range []string{"noisy log of a passing test", "=== RUN", "PASS\n"} {
		if strings.Contains(out.String(), never) {
			t.Errorf("output has %q, which plain go test does not print", never)
		}
	}
}

func TestNothingSkipped(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	in := `{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}` + "\n"
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	if want := "ok  \tp\t0.1s\n== skipped: nothing\n"; out.String() != want {
		t.Errorf("run = %q, want %q", out.String(), want)
	}
}
