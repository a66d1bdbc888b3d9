package compare

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	img := synth(21, 80, 60).quantise(nil)
	prompt := `{"3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 4, "cfg": 2, "sampler_name": "euler", "scheduler": "normal", "denoise": 1}}}`
	rec, err := NewRecord(img, encodePNG(t, img, textChunk("prompt", prompt)))
	if err != nil {
		t.Fatalf("NewRecord: %v", err)
	}
	th := DefaultThresholds()
	th.ColourCast = 0.5
	rec.Thresholds = &th
	rec.Fingerprint = map[string]string{"backend": "cpu", "executor": "test"}
	js, err := rec.MarshalIndent()
	if err != nil {
		t.Fatalf("MarshalIndent: %v", err)
	}
	back, err := ReadRecord(bytes.NewReader(js))
	if err != nil {
		t.Fatalf("ReadRecord: %v\n%s", err, js)
	}
	if !reflect.DeepEqual(back, rec) {
		t.Fatalf("record round trip differs:\n%s", js)
	}
	if back.Provenance == nil || back.Provenance.Samplers[0].Seed != "5" {
		t.Errorf("provenance lost: %+v", back.Provenance)
	}
	// About 300 lines of OKLab and 200 of level statistics; the icons as
	// arrays would add 726 more.
	if n := strings.Count(string(js), "\n"); n > 650 {
		t.Errorf("record is %d lines; icons should serialise compactly", n)
	}
}

func TestReadRecordRejects(t *testing.T) {
	t.Parallel()
	img := synth(22, 32, 32).quantise(nil)
	rec, err := NewRecord(img, nil)
	if err != nil {
		t.Fatalf("NewRecord: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }},
		{"wrong version", func(m map[string]any) { m["version"] = 99 }},
		{"short sha", func(m map[string]any) { m["sha256"] = "abc" }},
		{"short hash", func(m map[string]any) { m["dct_hash"] = "ab" }},
		{"bad icon", func(m map[string]any) { m["icon"] = map[string]any{"width": 1, "height": 1, "pixels": "zz"} }},
		{"no grid", func(m map[string]any) { m["colour"] = map[string]any{} }},
		{"bad thresholds", func(m map[string]any) { m["thresholds"] = map[string]any{"window": 0} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			js, _ := json.Marshal(rec)
			var m map[string]any
			if err := json.Unmarshal(js, &m); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			tt.mutate(m)
			js, _ = json.Marshal(m)
			if _, err := ReadRecord(bytes.NewReader(js)); err == nil {
				t.Fatal("ReadRecord accepted a broken record")
			}
		})
	}
}

// TestCompareFromRecord: judging against a golden's record alone gives the
// same tiers 0–3 as judging against its pixels; tier 4 is skipped.
func TestCompareFromRecord(t *testing.T) {
	t.Parallel()
	for _, seed := range testSeeds[:2] {
		f := synth(seed, 256, 256)
		golden := f.quantise(nil)
		goldPNG := encodePNG(t, golden, textChunk("prompt", `{"1": {"class_type": "KSampler", "inputs": {"seed": 1}}}`))
		rec, err := NewRecord(golden, goldPNG)
		if err != nil {
			t.Fatalf("NewRecord: %v", err)
		}
		js, err := rec.MarshalIndent()
		if err != nil {
			t.Fatalf("MarshalIndent: %v", err)
		}
		stored, err := ReadRecord(bytes.NewReader(js))
		if err != nil {
			t.Fatalf("ReadRecord: %v", err)
		}
		for _, e := range edits() {
			t.Run(e.name, func(t *testing.T) {
				got := e.apply(f, golden, seed)
				gotPNG := encodePNG(t, got, textChunk("prompt", `{"1": {"class_type": "KSampler", "inputs": {"seed": 1}}}`))
				full := Compare(Input{Image: golden, PNG: goldPNG}, Input{PNG: gotPNG}, Options{})
				fromRec := Compare(Input{Record: stored}, Input{PNG: gotPNG}, Options{})
				if len(full.Tiers) != len(fromRec.Tiers) {
					t.Fatalf("%d tiers vs %d", len(full.Tiers), len(fromRec.Tiers))
				}
				for i := range 4 {
					if !reflect.DeepEqual(withoutDrift(full.Tiers[i]), fromRec.Tiers[i]) {
						t.Errorf("tier %s differs:\nfull   %+v\nrecord %+v", full.Tiers[i].Tier, full.Tiers[i], fromRec.Tiers[i])
					}
				}
				if len(full.Tiers) == 5 && e.tier != "=" && fromRec.Tiers[4].Status != StatusSkipped {
					t.Errorf("local tier from a record: %s, want skipped", fromRec.Tiers[4].Status)
				}
				if fromRec.Diff != nil {
					t.Error("heat-map without golden pixels")
				}
				if want, err := NewRecord(got, gotPNG); err != nil || !reflect.DeepEqual(fromRec.OutputRecord, want) {
					t.Errorf("OutputRecord differs from NewRecord of the output (%v)", err)
				}
				// Where tiers 0–3 decide, the verdict is the same.
				if e.tier != FailLocal && (full.Verdict != fromRec.Verdict || full.FailedTier != fromRec.FailedTier) {
					t.Errorf("verdict %s/%s from pixels, %s/%s from record", full.Verdict, full.FailedTier, fromRec.Verdict, fromRec.FailedTier)
				}
			})
		}
	}
}

// withoutDrift is a tier without the drift metrics and note, which need
// both sides' pixels (as the local tier does), and with the status the
// rest of its metrics give: what a record can judge.
func withoutDrift(tr TierResult) TierResult {
	if i := strings.Index(tr.Note, "; drift: "); i >= 0 {
		tr.Note = tr.Note[:i]
	}
	tr.Metrics = slices.DeleteFunc(slices.Clone(tr.Metrics), func(m Metric) bool { return strings.HasPrefix(m.Name, "drift_") })
	if tr.Status == StatusFail && worstOver(tr.Metrics) == nil {
		tr.Status = StatusPass
	}
	return tr
}

func TestRecordThresholdsApply(t *testing.T) {
	t.Parallel()
	f := synth(23, 96, 96)
	golden := f.quantise(nil)
	got := hueRotate(golden, 5)
	rec, err := NewRecord(golden, nil)
	if err != nil {
		t.Fatalf("NewRecord: %v", err)
	}
	if r := Compare(Input{Record: rec}, Input{Image: got}, Options{}); r.Verdict != Fail {
		t.Fatalf("default thresholds: %s, want fail", r.Verdict)
	}
	loose := DefaultThresholds()
	loose.ColourMean, loose.ColourCast, loose.ColourCell = 10, 10, 10
	rec.Thresholds = &loose
	if r := Compare(Input{Record: rec}, Input{Image: got}, Options{}); r.Verdict != PassApprox {
		t.Fatalf("record thresholds: %s (%s), want pass~", r.Verdict, r.Reason)
	}
	def := DefaultThresholds()
	if r := Compare(Input{Record: rec}, Input{Image: got}, Options{Thresholds: &def}); r.Verdict != Fail {
		t.Fatalf("option thresholds override the record: %s, want fail", r.Verdict)
	}
}

func TestToNRGBA(t *testing.T) {
	t.Parallel()
	ref := synth(24, 17, 9).quantise(nil)
	ref.Pix[3] = 0x80 // one translucent pixel
	rgba64 := image.NewNRGBA64(ref.Rect)
	pal := make(color.Palette, 0, 256)
	seen := map[color.NRGBA]uint8{}
	paletted := image.NewPaletted(ref.Rect, nil)
	for y := range 9 {
		for x := range 17 {
			c := ref.NRGBAAt(x, y)
			rgba64.SetNRGBA64(x, y, color.NRGBA64{uint16(c.R) * 257, uint16(c.G) * 257, uint16(c.B) * 257, uint16(c.A) * 257})
			if _, ok := seen[c]; !ok && len(pal) < 256 {
				seen[c] = uint8(len(pal))
				pal = append(pal, c)
			}
		}
	}
	paletted.Palette = pal
	for y := range 9 {
		for x := range 17 {
			paletted.SetColorIndex(x, y, seen[ref.NRGBAAt(x, y)])
		}
	}
	big := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	sub := big.SubImage(image.Rect(5, 7, 22, 16)).(*image.NRGBA)
	for y := range 9 {
		for x := range 17 {
			sub.SetNRGBA(5+x, 7+y, ref.NRGBAAt(x, y))
		}
	}
	want := pixelSHA256(ref)
	tests := []struct {
		name string
		img  image.Image
	}{
		{"nrgba", ref}, {"nrgba64", rgba64}, {"paletted", paletted}, {"sub-image", sub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if len(seen) > 256 {
				t.Skip("palette overflow")
			}
			if got := pixelSHA256(toNRGBA(tt.img)); got != want {
				t.Fatalf("sha %s, want %s", got, want)
			}
		})
	}
}

func TestStaleRecord(t *testing.T) {
	t.Parallel()
	a := synth(61, 64, 64).quantise(nil)
	b := synth(62, 32, 32).quantise(nil)
	rec, err := NewRecord(a, nil)
	if err != nil {
		t.Fatalf("NewRecord: %v", err)
	}
	r := Compare(Input{Image: b, Record: rec}, Input{Image: a}, Options{})
	if r.Verdict != Error || !strings.Contains(r.Reason, "record does not match") {
		t.Fatalf("stale record: %s (%s), want error", r.Verdict, r.Reason)
	}
}

// TestRecordThresholdsBeforeIconMinRange checks that thresholds stored
// before icon_min_range existed still load, with its default, and that an
// explicit value (0 included) round-trips.
func TestRecordThresholdsBeforeIconMinRange(t *testing.T) {
	t.Parallel()
	old := DefaultThresholds()
	old.IconMinRange = 0
	js, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "icon_min_range")
	legacy, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		js   []byte
		want float64
	}{
		{"absent: default", legacy, DefaultThresholds().IconMinRange},
		{"explicit 0", js, 0},
		{"explicit 7", []byte(strings.Replace(string(js), `"icon_min_range":0`, `"icon_min_range":7`, 1)), 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec struct {
				Thresholds *Thresholds `json:"thresholds"`
			}
			if err := json.Unmarshal([]byte(`{"thresholds":`+string(tt.js)+`}`), &rec); err != nil {
				t.Fatal(err)
			}
			if got := rec.Thresholds.IconMinRange; got != tt.want {
				t.Fatalf("icon_min_range %g, want %g", got, tt.want)
			}
			if rec.Thresholds.IconY != DefaultThresholds().IconY {
				t.Fatalf("icon_y %g lost", rec.Thresholds.IconY)
			}
		})
	}
	t.Run("unknown key", func(t *testing.T) {
		t.Parallel()
		var th Thresholds
		if err := json.Unmarshal([]byte(`{"icon_min_rang": 3}`), &th); err == nil {
			t.Fatal("unknown key accepted")
		}
	})
}

// TestSameFileDecodedOnce: the same PNG bytes on both sides pass exact,
// decoded once, and a record beside the golden's bytes is still checked
// against their pixels.
func TestSameFileDecodedOnce(t *testing.T) {
	t.Parallel()
	a := synth(61, 64, 64).quantise(nil)
	file := encodePNG(t, a)
	rec, err := NewRecord(a, file)
	if err != nil {
		t.Fatal(err)
	}
	if r := Compare(Input{PNG: file, Record: rec}, Input{PNG: bytes.Clone(file)}, Options{}); r.Verdict != Pass || r.OutputRecord == nil {
		t.Errorf("same file with its record: %s (%s), output record %v", r.Verdict, r.Reason, r.OutputRecord != nil)
	}
	stale, err := NewRecord(synth(62, 64, 64).quantise(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := Compare(Input{PNG: file, Record: stale}, Input{PNG: file}, Options{}); r.Verdict != Error || !strings.Contains(r.Reason, "record does not match") {
		t.Errorf("same file with a stale record: %s (%s), want error", r.Verdict, r.Reason)
	}
	if r := Compare(Input{PNG: file}, Input{PNG: file[:len(file)/2]}, Options{}); r.Verdict != Error {
		t.Errorf("a truncated output: %s (%s), want error", r.Verdict, r.Reason)
	}
}
