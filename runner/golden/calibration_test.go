package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/regen-dev/regen/harness/compare"
	"github.com/regen-dev/regen/internal/testutil"
)

// copyGolden copies a committed golden pair into a fresh class folder.
func copyGolden(tb testing.TB, workflow, file string) Store {
	tb.Helper()
	s := Store{Root: tb.TempDir(), Class: "cpu"}
	if err := os.MkdirAll(filepath.Join(s.Dir(), workflow), 0o755); err != nil {
		tb.Fatalf("mkdir: %v", err)
	}
	for _, ext := range []string{".png", ".json"} {
		b, err := os.ReadFile(testutil.Path(tb, "golden", "cpu", workflow, file+ext))
		if err != nil {
			tb.Fatalf("read committed golden: %v", err)
		}
		if err := os.WriteFile(filepath.Join(s.Dir(), workflow, file+ext), b, 0o644); err != nil {
			tb.Fatalf("write golden copy: %v", err)
		}
	}
	return s
}

func TestWriteCalibrationKeepsTheRestOfTheRecord(t *testing.T) {
	t.Parallel()
	const wf, file = "txt2img-gmm", "euler.seed-1.7-0"
	s := copyGolden(t, wf, file)
	before, err := os.ReadFile(s.RecordPath(wf, file))
	if err != nil {
		t.Fatal(err)
	}
	png, _ := os.ReadFile(s.PNGPath(wf, file))
	// A committed record survives a decode and encode byte for byte: the
	// calibration is the only change a write makes.
	rec, err := DecodeRecord(before)
	if err != nil {
		t.Fatal(err)
	}
	again, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, before) {
		t.Fatalf("re-encoding a committed record changes it:\n%s\nvs\n%s", again, before)
	}
	th := compare.DefaultThresholds()
	th.ColourMean = 0.9
	for _, target := range []string{"cuda-emulated-nondet", "cpu", "cuda-emulated-nondet"} {
		cal := &Calibration{Target: target, Runs: 5, Factor: 2, Spread: map[string]float64{"colour.mean_delta_e": 0.45},
			Thresholds: th, Controls: []Control{{Name: "hue 3°", Verdict: "fail", Margin: 3.5, Tripped: []string{"colour (3.5× over)"}}}}
		if err := s.WriteCalibration(wf, file, cal); err != nil {
			t.Fatalf("WriteCalibration(%s): %v", target, err)
		}
	}
	got, err := s.LoadRecord(wf, file)
	if err != nil {
		t.Fatalf("load after calibration: %v", err)
	}
	if len(got.Calibrations) != 2 || got.Calibrations["cpu"] == nil || got.Calibrations["cuda-emulated-nondet"].Thresholds.ColourMean != 0.9 {
		t.Errorf("calibrations = %+v, want cpu and cuda-emulated-nondet with colour_mean 0.9", got.Calibrations)
	}
	if _, m := got.Calibrations["cpu"].SmallestMargin(); m != 3.5 {
		t.Errorf("smallest margin = %v, want 3.5", m)
	}
	after, _ := os.ReadFile(s.PNGPath(wf, file))
	if !bytes.Equal(after, png) {
		t.Error("the PNG changed")
	}
	got.Calibrations = nil
	stripped, _ := got.Encode()
	if !bytes.Equal(stripped, before) {
		t.Errorf("the record changed beyond its calibrations:\n%s", stripped)
	}
	left, _ := filepath.Glob(filepath.Join(s.Dir(), wf, TempPrefix+"*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteCalibrationRefusesWithoutGoldenOrClass(t *testing.T) {
	t.Parallel()
	s := copyGolden(t, "txt2img-gmm", "euler.seed-1.7-0")
	tests := []struct {
		name, file string
		cal        *Calibration
	}{
		{name: "no class", file: "euler.seed-1.7-0", cal: &Calibration{}},
		{name: "no golden", file: "euler.seed-9.7-0", cal: &Calibration{Target: "cpu"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := s.WriteCalibration("txt2img-gmm", tc.file, tc.cal); err == nil {
				t.Error("WriteCalibration succeeded, want an error")
			}
		})
	}
}
