package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/harness/compare"

	"github.com/regen-dev/regen/internal/testutil"
)

// testImage draws a deterministic 96×96 image: a gradient, a disc and
// fine texture. edit, when set, changes pixel (x, y)'s RGB.
func testImage(edit func(x, y int, c []uint8)) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 96, 96))
	for y := range 96 {
		for x := range 96 {
			c := img.Pix[4*(y*96+x) : 4*(y*96+x)+4]
			tex := 6 * math.Sin(float64(x)*1.3) * math.Sin(float64(y)*0.9)
			c[0] = uint8(40 + 1.5*float64(x) + tex)
			c[1] = uint8(60 + 1.2*float64(y) + tex)
			c[2] = uint8(150 - float64(x+y)/2 + tex)
			if math.Hypot(float64(x)-40, float64(y)-50) < 18 {
				c[0], c[1], c[2] = uint8(200+tex), uint8(80+tex), uint8(60+tex)
			}
			c[3] = 255
			if edit != nil {
				edit(x, y, c)
			}
		}
	}
	return img
}

func writePNG(t *testing.T, dir, name string, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatalf("encode %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	return p
}

func TestCompareCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	golden := writePNG(t, dir, "golden.png", testImage(nil))
	same := writePNG(t, dir, "same.png", testImage(nil))
	// One level up or down, in turn, on every 7th pixel's green: differs,
	// within thresholds. Symmetric, as jitter is: one level up on all of
	// them would be a systematic shift of 1/7 of the pixels (drift_z).
	jitter := writePNG(t, dir, "jitter.png", testImage(func(x, y int, c []uint8) {
		switch (x + y) % 14 {
		case 0:
			c[1]++
		case 7:
			c[1]--
		}
	}))
	// An 8×8 block with its channels rotated: a local regression.
	patched := writePNG(t, dir, "patch.png", testImage(func(x, y int, c []uint8) {
		if x >= 70 && x < 78 && y >= 10 && y < 18 {
			c[0], c[1], c[2] = c[2], c[0], c[1]
		}
	}))
	notPNG := filepath.Join(dir, "text.png")
	if err := os.WriteFile(notPNG, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose.json")
	if err := os.WriteFile(loose, []byte(`{"window_ratio": 1, "global_ratio": 1, "hash_bits": 256,
		"colour_cell_delta_e": 100, "colour_mean_delta_e": 100, "colour_cast_delta_e": 100}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badThresholds := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badThresholds, []byte(`{"no_such": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := compare.NewRecord(testImage(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	recJSON, _ := rec.MarshalIndent()
	record := filepath.Join(dir, "golden.json")
	if err := os.WriteFile(record, recJSON, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string // substrings
		verdict string
	}{
		{"identical", []string{golden, same}, ExitPass, []string{"verdict: pass — exact", "exact"}, ""},
		{"jitter passes approximately", []string{golden, jitter}, ExitPass, []string{"verdict: pass~ —", "window_ratio"}, ""},
		{"jitter strict", []string{"--strict", golden, jitter}, ExitRegression, []string{"verdict: fail — exact (strict)"}, ""},
		{"patch fails local", []string{golden, patched}, ExitRegression, []string{"verdict: fail — local:", "window_ratio"}, ""},
		{"loosened thresholds", []string{golden, patched, "--thresholds", loose}, ExitPass, []string{"verdict: pass~ —"}, ""},
		{"golden record", []string{record, patched}, ExitPass, []string{"golden pixels not available"}, ""},
		// The record files committed under golden/ wrap the comparator's
		// record (case, workflow, compare, provenance).
		{"committed golden record", []string{testutil.Path(t, "golden/cpu/conditioning/default.seed-1.10-0.json"), testutil.Path(t, "golden/cpu/conditioning/default.seed-1.10-0.png")},
			ExitPass, []string{"verdict: pass — exact"}, ""},
		{"committed golden record, other output", []string{testutil.Path(t, "golden/cpu/conditioning/default.seed-1.10-0.json"), patched},
			ExitRegression, []string{"verdict: fail — size"}, ""},
		{"json", []string{"--json", golden, patched}, ExitRegression, nil, "fail"},
		{"json pass", []string{golden, same, "-json"}, ExitPass, nil, "pass"},
		{"missing output", []string{golden, filepath.Join(dir, "nope.png")}, ExitInfra, nil, ""},
		{"output not a png", []string{golden, notPNG}, ExitInfra, nil, ""},
		{"golden not a png", []string{notPNG, golden}, ExitInfra, nil, ""},
		{"bad thresholds", []string{"--thresholds", badThresholds, golden, same}, ExitInfra, nil, ""},
		{"one argument", []string{golden}, ExitInfra, nil, ""},
		{"unknown flag", []string{"--nope", golden, same}, ExitInfra, nil, ""},
		{"help", []string{"-h"}, ExitPass, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := Run(context.Background(), append([]string{"compare"}, tt.args...), &out, &errOut)
			if code := ExitCode(err, io.Discard); code != tt.code {
				t.Fatalf("exit %d (err %v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, tt.code, out.String(), errOut.String())
			}
			if tt.code == ExitRegression && !errors.Is(err, ErrRegression) {
				t.Errorf("error %v does not wrap ErrRegression", err)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out.String())
				}
			}
			if tt.verdict != "" {
				checkCompareJSON(t, out.Bytes(), tt.verdict)
			}
		})
	}
}

// checkCompareJSON checks the --json document's shape.
func checkCompareJSON(t *testing.T, data []byte, verdict string) {
	t.Helper()
	var doc struct {
		Golden     string `json:"golden"`
		Output     string `json:"output"`
		Verdict    string `json:"verdict"`
		FailedTier string `json:"failed_tier"`
		Reason     string `json:"reason"`
		Tiers      []struct {
			Tier    string `json:"tier"`
			Status  string `json:"status"`
			Metrics []struct {
				Name      string   `json:"name"`
				Value     *float64 `json:"value"`
				Threshold *float64 `json:"threshold"`
				Over      *bool    `json:"over"`
			} `json:"metrics"`
		} `json:"tiers"`
		Thresholds map[string]float64 `json:"thresholds"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode --json output: %v\n%s", err, data)
	}
	if doc.Verdict != verdict || doc.Golden == "" || doc.Output == "" || doc.Reason == "" {
		t.Fatalf("json verdict %q golden %q output %q reason %q", doc.Verdict, doc.Golden, doc.Output, doc.Reason)
	}
	if len(doc.Tiers) != 5 || doc.Tiers[0].Tier != "exact" || doc.Tiers[4].Tier != "local" {
		t.Fatalf("json tiers %+v", doc.Tiers)
	}
	if verdict == "fail" {
		if doc.FailedTier == "" {
			t.Error("json failed_tier empty on fail")
		}
		for _, m := range doc.Tiers[2].Metrics {
			if m.Value == nil || m.Threshold == nil || m.Over == nil {
				t.Errorf("colour metric %q lacks value/threshold/over", m.Name)
			}
		}
	}
	if _, ok := doc.Thresholds["window_ratio"]; !ok {
		t.Errorf("json thresholds %v lack window_ratio", doc.Thresholds)
	}
}

func TestCompareDiffFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	golden := writePNG(t, dir, "golden.png", testImage(nil))
	patched := writePNG(t, dir, "patch.png", testImage(func(x, y int, c []uint8) {
		if x >= 70 && x < 78 && y >= 10 && y < 18 {
			c[0], c[1], c[2] = c[2], c[0], c[1]
		}
	}))
	for _, pair := range [][2]string{{golden, patched}, {golden, golden}} {
		diff := filepath.Join(dir, filepath.Base(pair[1])+".diff.png")
		err := Run(context.Background(), []string{"compare", pair[0], pair[1], "--diff", diff}, io.Discard, io.Discard)
		if err != nil && !errors.Is(err, ErrRegression) {
			t.Fatalf("compare: %v", err)
		}
		fh, err := os.Open(diff)
		if err != nil {
			t.Fatalf("heat-map not written: %v", err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("decode heat-map: %v", err)
		}
		if img.Bounds().Dx() != 96 || img.Bounds().Dy() != 96 {
			t.Fatalf("heat-map bounds %v", img.Bounds())
		}
	}
}
