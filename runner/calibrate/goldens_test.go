package calibrate

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/harness/compare"
)

// goldenDir holds the committed CPU goldens: the fixture suite's outputs.
const goldenDir = "../../golden/cpu"

// TestControlsFailOnGoldens is recall at the default thresholds: every
// synthetic control, applied to every committed CPU golden, must fail
// (an edit that leaves the image unchanged, a blur of a solid colour, is
// not a control there, as calibrate reports it). A control that passes
// here leaves its case uncalibratable whatever the spread.
func TestControlsFailOnGoldens(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("%d goldens under %s, want the fixture suite's (≥ 40)", len(files), goldenDir)
	}
	th := compare.DefaultThresholds()
	for _, f := range files {
		name := strings.TrimPrefix(filepath.ToSlash(f), goldenDir+"/")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("decode %s: %v", f, err)
			}
			px := toNRGBA(img)
			var margins []string
			for _, e := range edits {
				edited := e.fn(px)
				if bytes.Equal(edited.Pix, px.Pix) {
					margins = append(margins, e.name+" n/a")
					continue
				}
				ct := judgeControl(e.name, compare.Input{PNG: data}, compare.Input{Image: edited}, &th)
				if ct.Verdict != string(compare.Fail) {
					t.Errorf("%s passes the default thresholds (%s)", e.name, ct.Verdict)
					continue
				}
				margins = append(margins, fmt.Sprintf("%s %.3g× (%s)", e.name, ct.Margin, strings.Join(ct.Tripped, ", ")))
			}
			t.Log(strings.Join(margins, "; "))
		})
	}
}
