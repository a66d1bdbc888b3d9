package compare

import (
	"image"
	"slices"
	"strings"
	"testing"
)

// TestTripsRanked: when several tiers trip, the result lists them all,
// furthest over its threshold first, and the reason says so, while the
// primary tier (FailedTier) keeps its precedence.
func TestTripsRanked(t *testing.T) {
	t.Parallel()
	f := synth(1, 256, 256)
	golden := f.quantise(nil)
	tests := []struct {
		name    string
		got     *image.NRGBA
		primary string
		classes []string // Trips, in order
	}{
		{"hue 5° trips colour alone", hueRotate(golden, 5), FailColour, []string{FailColour}},
		// A hue shift far over the colour threshold also moves the
		// stretched chroma icon a little: structure stays primary, but the
		// list says colour is much further over.
		{"hue 20° trips local, colour, structure", hueRotate(golden, 20), FailStructure,
			[]string{FailLocal, FailColour, FailStructure}},
		{"size change is listed first, without a ratio", synth(1, 256, 128).quantise(nil), FailSize,
			[]string{FailSize, FailColour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Compare(Input{Image: golden}, Input{Image: tt.got}, Options{})
			if r.Verdict != Fail || r.FailedTier != tt.primary {
				t.Fatalf("verdict %s/%q (%s), want fail/%q", r.Verdict, r.FailedTier, r.Reason, tt.primary)
			}
			var classes []string
			for i, tr := range r.Trips {
				classes = append(classes, tr.Class)
				if i > 0 && tripKey(tr) > tripKey(r.Trips[i-1]) {
					t.Errorf("trips not ordered by ratio: %+v", r.Trips)
				}
				if tr.Class != FailSize && (tr.Ratio <= 1 || tr.Metric == "") {
					t.Errorf("trip %+v: want a metric over its threshold", tr)
				}
				if m := r.worstIn(tr.Class); tr.Class != FailSize && (m == nil || m.Name != tr.Metric) {
					t.Errorf("trip %+v does not name its tier's worst metric %+v", tr, m)
				}
			}
			if !slices.Equal(classes, tt.classes) {
				t.Fatalf("trips %v, want %v", r.Trips, tt.classes)
			}
			if !strings.HasPrefix(r.Reason, tt.primary+":") {
				t.Errorf("reason %q does not start with the primary tier", r.Reason)
			}
			sum := r.TripSummary()
			switch {
			case len(tt.classes) > 1 && !strings.HasSuffix(r.Reason, "; tripped: "+sum):
				t.Errorf("reason %q does not end with the ranked list %q", r.Reason, sum)
			case len(tt.classes) == 1 && strings.Contains(r.Reason, "tripped:"):
				t.Errorf("reason %q lists a single tier", r.Reason)
			}
			t.Logf("%s", r.Reason)
		})
	}
}

// worstIn is the tier's gated metric furthest over its threshold.
func (r *Result) worstIn(class string) *Metric {
	for i := range r.Tiers {
		if failClass(r.Tiers[i].Tier) == class {
			return worstOver(r.Tiers[i].Metrics)
		}
	}
	return nil
}

func TestTripString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		trips []Trip
		want  string
	}{
		{nil, ""},
		{[]Trip{{Class: FailSize}}, "size"},
		{[]Trip{{Class: FailColour, Metric: "cast_delta_e", Ratio: 46.3}, {Class: FailStructure, Metric: "icon_cb", Ratio: 1.31}},
			"colour (46× over), structure (1.3× over)"},
		{[]Trip{{Class: FailLocal, Metric: "window_ratio", Ratio: 9.96}}, "local (10× over)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			r := Result{Trips: tt.trips}
			if got := r.TripSummary(); got != tt.want {
				t.Fatalf("TripSummary() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReasonNamesWorstMetric: within a tier the reason and the key metric
// name the metric furthest over its threshold, not the first one listed.
func TestReasonNamesWorstMetric(t *testing.T) {
	t.Parallel()
	golden := synth(1, 256, 256).quantise(nil)
	r := Compare(Input{Image: golden}, Input{Image: hueRotate(golden, 10)}, Options{})
	tr := r.Tier(TierLocal)
	worst := worstOver(tr.Metrics)
	if worst == nil {
		t.Fatalf("local did not trip: %s", r.Reason)
	}
	var first *Metric
	for i := range tr.Metrics {
		if tr.Metrics[i].Over {
			first = &tr.Metrics[i]
			break
		}
	}
	if overRatio(*first) > overRatio(*worst) {
		t.Fatalf("worstOver %+v is not the furthest over (first %+v)", worst, first)
	}
	for _, tp := range r.Trips {
		if tp.Class == FailLocal && tp.Metric != worst.Name {
			t.Errorf("local trip names %s, want %s", tp.Metric, worst.Name)
		}
	}
}
