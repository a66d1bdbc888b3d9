package compare

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedRecordsLoad: every record committed under golden/ (written
// before level statistics and the alpha thresholds existed) still loads,
// and judging its own PNG against it passes: the format stays compatible.
func TestCommittedRecordsLoad(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("..", "..", "golden", "*", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no committed golden records found")
	}
	for _, p := range paths {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			js, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			// runner/golden wraps the comparator's record.
			var wrap struct {
				Compare json.RawMessage `json:"compare"`
			}
			if err := json.Unmarshal(js, &wrap); err != nil || len(wrap.Compare) == 0 {
				t.Fatalf("%s: no compare record (%v)", p, err)
			}
			rec, err := ReadRecord(bytes.NewReader(wrap.Compare))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			png, err := os.ReadFile(strings.TrimSuffix(p, ".json") + ".png")
			if err != nil {
				t.Fatal(err)
			}
			if r := Compare(Input{Record: rec, PNG: png}, Input{PNG: png}, Options{}); r.Verdict != Pass {
				t.Fatalf("own PNG against its record: %s (%s)", r.Verdict, r.Reason)
			}
		})
	}
}
