package compare

import (
	"image"
	"image/color"
	"testing"
)

func TestGatedMetricsAllHaveThresholds(t *testing.T) {
	t.Parallel()
	// Every metric a comparison gates must be one GatedMetrics names, or a
	// calibration would leave it at its floor unseen.
	g := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	o := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			g.SetNRGBA(x, y, color.NRGBA{uint8(x * 4), uint8(y * 4), 90, uint8(200 + x%50)})
			o.SetNRGBA(x, y, color.NRGBA{uint8(x*4 + 3), uint8(y * 4), 97, uint8(190 + x%50)})
		}
	}
	res := Compare(Input{Image: g}, Input{Image: o}, Options{NoDiff: true})
	known := map[string]bool{}
	for _, k := range GatedMetrics() {
		known[k] = true
	}
	seen := 0
	for _, kv := range res.GatedValues() {
		seen++
		if !known[kv.Key] {
			t.Errorf("gated metric %s has no threshold in GatedMetrics", kv.Key)
		}
	}
	if seen < 12 {
		t.Errorf("only %d gated metrics measured, want every tier's", seen)
	}
}

func TestRaiseNeverLowers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
		v    float64
		want float64
		ok   bool
	}{
		{name: "raise float", key: "colour.mean_delta_e", v: 0.9, want: 0.9, ok: true},
		{name: "keep float", key: "colour.mean_delta_e", v: 0.1, want: 0.3, ok: true},
		{name: "int rounds up", key: "structure.hash_bits", v: 100.2, want: 101, ok: true},
		{name: "shared threshold", key: "structure.icon_cr", v: 200000, want: 200000, ok: true},
		{name: "unknown", key: "local.changed_pixels", v: 5, ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := DefaultThresholds()
			if ok := th.Raise(tc.key, tc.v); ok != tc.ok {
				t.Fatalf("Raise(%s) = %v, want %v", tc.key, ok, tc.ok)
			}
			if !tc.ok {
				return
			}
			if got, _ := th.Threshold(tc.key); got != tc.want {
				t.Errorf("threshold %s = %v, want %v", tc.key, got, tc.want)
			}
		})
	}
}
