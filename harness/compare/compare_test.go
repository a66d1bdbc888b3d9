package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// keyMetrics renders the gated metrics of a result on one line.
func keyMetrics(r Result) string {
	var b strings.Builder
	for _, tr := range r.Tiers {
		for _, m := range tr.Metrics {
			if m.Gated {
				fmt.Fprintf(&b, " %s=%s", m.Name, formatValue(m.Value))
			}
		}
	}
	return b.String()
}

// TestSyntheticEdits is the calibration table: every edit of every test
// image must fail with its expected tier under DefaultThresholds, and
// jitter must pass~.
func TestSyntheticEdits(t *testing.T) {
	t.Parallel()
	for _, seed := range testSeeds {
		f := synth(seed, 256, 256)
		golden := f.quantise(nil)
		for _, e := range edits() {
			t.Run(fmt.Sprintf("seed%d/%s", seed, e.name), func(t *testing.T) {
				t.Parallel()
				got := e.apply(f, golden, seed)
				r := Compare(Input{Image: golden}, Input{Image: got}, Options{})
				t.Logf("%s %s:%s", r.Verdict, r.FailedTier, keyMetrics(r))
				checkVerdict(t, r, e.tier)
			})
		}
	}
}

// checkVerdict checks r against an edit's expected tier: "=" pass, ""
// pass~, else a failure of that class.
func checkVerdict(t *testing.T, r Result, tier string) {
	t.Helper()
	switch tier {
	case "=":
		if r.Verdict != Pass {
			t.Fatalf("verdict %s (%s), want pass", r.Verdict, r.Reason)
		}
	case "":
		if r.Verdict != PassApprox {
			t.Fatalf("verdict %s (%s), want pass~", r.Verdict, r.Reason)
		}
	default:
		if r.Verdict != Fail || r.FailedTier != tier {
			t.Fatalf("verdict %s tier %q (%s), want fail at %q", r.Verdict, r.FailedTier, r.Reason, tier)
		}
		if !strings.HasPrefix(r.Reason, tier+":") {
			t.Errorf("reason %q does not start with the tier", r.Reason)
		}
	}
}

// TestSeparationMargins checks that the defaults sit between the noise and
// the edits with room on both sides, per gated metric that decides an edit.
func TestSeparationMargins(t *testing.T) {
	t.Parallel()
	type key struct{ tier, metric string }
	noise := map[key]float64{}
	for _, seed := range testSeeds {
		f := synth(seed, 256, 256)
		golden := f.quantise(nil)
		for _, got := range []*image.NRGBA{jitter(f, seed), lsbNoise(golden, seed)} {
			r := Compare(Input{Image: golden}, Input{Image: got}, Options{})
			for _, tr := range r.Tiers {
				for _, m := range tr.Metrics {
					if m.Gated {
						k := key{tr.Tier, m.Name}
						noise[k] = max(noise[k], m.Value)
						if m.Value*2 > m.Threshold && m.Threshold > 0 {
							t.Errorf("seed %d: noise %s/%s = %g is within 2× of its threshold %g",
								seed, tr.Tier, m.Name, m.Value, m.Threshold)
						}
					}
				}
			}
		}
	}
	t.Logf("worst noise per metric: %v", noise)
}

func TestCompareVerdicts(t *testing.T) {
	t.Parallel()
	f := synth(7, 64, 48)
	golden := f.quantise(nil)
	other := synth(8, 64, 48).quantise(nil)
	bigger := synth(7, 64, 64).quantise(nil)
	jittered := jitter(f, 7)
	tests := []struct {
		name       string
		golden     Input
		got        Input
		opts       Options
		verdict    Verdict
		failedTier string
	}{
		{"identical", Input{Image: golden}, Input{Image: golden}, Options{}, Pass, ""},
		{"no golden", Input{}, Input{Image: golden}, Options{}, New, ""},
		{"no output", Input{Image: golden}, Input{}, Options{}, Error, ""},
		{"unreadable output", Input{Image: golden}, Input{PNG: []byte("not a png")}, Options{}, Error, ""},
		{"size change", Input{Image: golden}, Input{Image: bigger}, Options{}, Fail, FailSize},
		{"another seed", Input{Image: golden}, Input{Image: other}, Options{}, Fail, FailStructure},
		{"jitter", Input{Image: golden}, Input{Image: jittered}, Options{}, PassApprox, ""},
		{"jitter strict", Input{Image: golden}, Input{Image: jittered}, Options{Strict: true}, Fail, FailExact},
		{"jitter, zero thresholds", Input{Image: golden}, Input{Image: jittered},
			Options{Thresholds: &Thresholds{Window: 8}}, Fail, FailStructure},
		{"bad thresholds", Input{Image: golden}, Input{Image: jittered},
			Options{Thresholds: &Thresholds{}}, Error, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Compare(tt.golden, tt.got, tt.opts)
			if r.Verdict != tt.verdict || r.FailedTier != tt.failedTier {
				t.Fatalf("got %s/%q (%s), want %s/%q", r.Verdict, r.FailedTier, r.Reason, tt.verdict, tt.failedTier)
			}
			if r.Reason == "" {
				t.Error("empty reason")
			}
			wantExact := map[Verdict]string{Pass: StatusPass, PassApprox: StatusDiffers}[tt.verdict]
			switch tt.failedTier {
			case FailSize, FailExact:
				wantExact = StatusFail
			case "":
			default:
				wantExact = StatusDiffers
			}
			if wantExact != "" && (len(r.Tiers) == 0 || r.Tiers[0].Status != wantExact) {
				t.Errorf("exact tier %+v, want status %q", r.Tier(TierExact), wantExact)
			}
			if tt.failedTier != "" && !slices.Contains(r.Tripped, tt.failedTier) {
				t.Errorf("tripped %v does not list %q", r.Tripped, tt.failedTier)
			}
			if r.Verdict.Passed() != (tt.verdict == Pass || tt.verdict == PassApprox) {
				t.Errorf("Passed() = %v for %s", r.Verdict.Passed(), r.Verdict)
			}
		})
	}
}

func TestResultTiersInOrder(t *testing.T) {
	t.Parallel()
	f := synth(4, 96, 96)
	golden := f.quantise(nil)
	r := Compare(Input{Image: golden}, Input{Image: blur(golden, 1.5)}, Options{})
	var names []string
	for _, tr := range r.Tiers {
		names = append(names, tr.Tier)
		for _, m := range tr.Metrics {
			if m.Gated && m.Over != (m.Value > m.Threshold) {
				t.Errorf("%s/%s: over=%v for %g vs %g", tr.Tier, m.Name, m.Over, m.Value, m.Threshold)
			}
		}
	}
	want := []string{TierExact, TierProvenance, TierColour, TierStructure, TierLocal}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("tiers %v, want %v", names, want)
	}
	if r.Tier(TierProvenance).Status != StatusSkipped {
		t.Errorf("provenance status %q without metadata, want skipped", r.Tier(TierProvenance).Status)
	}
	if m := r.Metric(TierLocal, "window_ratio"); m == nil || !m.Over {
		t.Errorf("local window_ratio = %+v, want over its threshold", m)
	}
	if r.Diff == nil || r.Diff.Bounds() != golden.Bounds() {
		t.Fatalf("diff heat-map missing or wrong size")
	}
	// The result is JSON: tiers, metrics and thresholds survive a round trip.
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal result: %v", err)
	}
	var back Result
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("unmarshal result: %v", err)
	}
	back.Diff, back.OutputRecord = r.Diff, r.OutputRecord
	if !reflect.DeepEqual(back, r) {
		t.Errorf("result JSON round trip differs:\n%s", js)
	}
}

func TestCompareDeterministic(t *testing.T) {
	t.Parallel()
	f := synth(5, 128, 128)
	golden := f.quantise(nil)
	got := hueRotate(golden, 3)
	a := Compare(Input{Image: golden}, Input{Image: got}, Options{})
	b := Compare(Input{Image: golden}, Input{Image: got}, Options{})
	a.Diff, b.Diff = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two comparisons of the same pair differ")
	}
}

func TestKeyMetric(t *testing.T) {
	t.Parallel()
	f := synth(6, 128, 128)
	golden := f.quantise(nil)
	tests := []struct {
		name string
		got  *image.NRGBA
		want string // metric name; "" for none
	}{
		{"identical", golden, ""},
		{"patch trips local", patch(golden, 0.01, 0.5, 0.5), "window_ratio"},
		{"gain trips colour, named by its metric furthest over", gain(golden, 0.04, [3]bool{true, true, true}), "cast_delta_e"},
		{"jitter shows the closest metric", jitter(f, 6), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Compare(Input{Image: golden}, Input{Image: tt.got}, Options{})
			m := r.KeyMetric()
			switch {
			case r.Verdict == PassApprox:
				if m == nil || !m.Gated || m.Over {
					t.Fatalf("pass~ key metric %+v, want a gated metric within its threshold", m)
				}
			case tt.want == "":
				if m != nil {
					t.Fatalf("key metric %+v, want none", m)
				}
			case m == nil || m.Name != tt.want || !m.Over:
				t.Fatalf("key metric %+v, want %s over its threshold (%s)", m, tt.want, r.Reason)
			}
		})
	}
}

func TestCompareTinyImages(t *testing.T) {
	t.Parallel()
	for _, size := range []image.Point{{1, 1}, {3, 2}, {2, 7}} {
		t.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(t *testing.T) {
			t.Parallel()
			golden := synth(51, max(size.X, 2), max(size.Y, 2)).quantise(nil).SubImage(image.Rectangle{Max: size})
			other := patch(toNRGBA(golden), 1, 0.5, 0.5)
			if r := Compare(Input{Image: golden}, Input{Image: golden}, Options{}); r.Verdict != Pass {
				t.Fatalf("identical: %s (%s)", r.Verdict, r.Reason)
			}
			r := Compare(Input{Image: golden}, Input{Image: other}, Options{})
			if r.Verdict != Fail {
				t.Fatalf("changed: %s (%s)", r.Verdict, r.Reason)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("marshal: %v", err)
			}
		})
	}
}

// TestIdenticalIsTierZeroOnly: an output identical to its golden is judged
// by tier 0 alone (the other tiers skipped, nothing analysed: no output
// record without a golden record to take it from), its record, when the
// golden has one, is what NewRecord gives, and a golden PNG that its record
// does not describe is still an error.
func TestIdenticalIsTierZeroOnly(t *testing.T) {
	t.Parallel()
	golden := synth(11, 40, 30).quantise(nil)
	goldPNG := encodePNG(t, golden)
	rec, err := NewRecord(golden, goldPNG)
	if err != nil {
		t.Fatal(err)
	}
	other := synth(12, 40, 30).quantise(nil)
	otherRec, err := NewRecord(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		golden  Input
		verdict Verdict
		record  bool // an output record is expected
	}{
		{"pixels", Input{Image: golden}, Pass, false},
		{"png", Input{PNG: goldPNG}, Pass, false},
		{"record", Input{Record: rec}, Pass, true},
		{"png and record", Input{PNG: goldPNG, Record: rec}, Pass, true},
		{"png and another image's record", Input{PNG: goldPNG, Record: otherRec}, Error, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Compare(tt.golden, Input{PNG: bytes.Clone(goldPNG)}, Options{})
			if r.Verdict != tt.verdict {
				t.Fatalf("verdict %s (%s), want %s", r.Verdict, r.Reason, tt.verdict)
			}
			if tt.verdict != Pass {
				return
			}
			for _, tr := range r.Tiers[1:] {
				if tr.Status != StatusSkipped {
					t.Errorf("tier %s: %s, want skipped", tr.Tier, tr.Status)
				}
			}
			if r.Diff != nil {
				t.Error("heat-map for identical pixels")
			}
			switch {
			case !tt.record && r.OutputRecord != nil:
				t.Errorf("output record %+v: the output was analysed", r.OutputRecord)
			case tt.record && !reflect.DeepEqual(r.OutputRecord, rec):
				t.Errorf("output record differs from NewRecord of the output")
			}
		})
	}
}

// TestRecordMustMatchPixels: a golden given with pixels and a record of
// other pixels (a PNG replaced without its record) is an error, whether
// the output is identical to the golden's pixels (hashed once for both
// sides) or not; with the right record both judge.
func TestRecordMustMatchPixels(t *testing.T) {
	t.Parallel()
	f := synth(3, 48, 40)
	goldPx := f.quantise(nil)
	goldPNG := encodePNG(t, goldPx)
	other := synth(4, 48, 40).quantise(nil)
	wrong, err := NewRecord(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	right, err := NewRecord(goldPx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		out     []byte
		rec     *Record
		want    Verdict
		wantMsg string
	}{
		{"identical output, wrong record", encodePNG(t, goldPx), wrong, Error, "record does not match its image"},
		{"other output, wrong record", encodePNG(t, jitter(f, 3)), wrong, Error, "record does not match its image"},
		{"identical output, its record", encodePNG(t, goldPx), right, Pass, "exact"},
		{"other output, its record", encodePNG(t, jitter(f, 3)), right, PassApprox, "every tier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := Compare(Input{PNG: goldPNG, Record: tt.rec}, Input{PNG: tt.out}, Options{NoDiff: true})
			if res.Verdict != tt.want || !strings.Contains(res.Reason, tt.wantMsg) {
				t.Errorf("verdict %s (%s), want %s with %q", res.Verdict, res.Reason, tt.want, tt.wantMsg)
			}
		})
	}
}
