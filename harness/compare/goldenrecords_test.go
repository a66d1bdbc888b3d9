package compare

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCommittedRecordsLoad: every record committed under golden/ (written
// before level statistics and the alpha thresholds existed) still loads,
// and judging its own PNG against it passes: the format stays compatible.
func TestCommittedRecordsLoad(t *testing.T) {
	t.Parallel()
	eachCommittedRecord(t, func(t *testing.T, rec *Record, png []byte) {
		if r := Compare(Input{Record: rec, PNG: png}, Input{PNG: png}, Options{}); r.Verdict != Pass {
			t.Fatalf("own PNG against its record: %s (%s)", r.Verdict, r.Reason)
		}
	})
}

// TestCommittedRecordsRecompute: every committed record's pixel-derived
// fields (hash, OKLab and level statistics, icons, DCT hash) are what
// NewRecord computes from its PNG today, bit for bit: a change to the pass
// that moved a stored value in its last digit fails here, before any
// golden is rewritten. (Records written before level statistics existed
// are compared without them.)
func TestCommittedRecordsRecompute(t *testing.T) {
	t.Parallel()
	eachCommittedRecord(t, func(t *testing.T, want *Record, png []byte) {
		img, err := decodePNG(png)
		if err != nil {
			t.Fatal(err)
		}
		got, err := NewRecord(img, png)
		if err != nil {
			t.Fatal(err)
		}
		if want.Colour.Levels == nil {
			got.Colour.Levels = nil
		}
		switch {
		case got.SHA256 != want.SHA256:
			t.Errorf("sha256 %s, record has %s", got.SHA256, want.SHA256)
		case !reflect.DeepEqual(got.Colour, want.Colour):
			t.Errorf("colour statistics differ:\n got %+v\nwant %+v", got.Colour.Global, want.Colour.Global)
		case !reflect.DeepEqual(got.Icon, want.Icon) || !reflect.DeepEqual(got.IconRaw, want.IconRaw):
			t.Error("icons differ")
		case got.DCTHash != want.DCTHash:
			t.Errorf("DCT hash %s, record has %s", got.DCTHash, want.DCTHash)
		}
	})
}

// eachCommittedRecord runs check, in a parallel subtest per record
// committed under golden/, with the comparator's record (runner/golden
// wraps it in its "compare" field) and the PNG beside it.
func eachCommittedRecord(t *testing.T, check func(t *testing.T, rec *Record, png []byte)) {
	t.Helper()
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
			check(t, rec, png)
		})
	}
}
