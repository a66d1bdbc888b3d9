package sqlstore

import (
	"math"
	"reflect"
	"testing"
)

func TestMetricsText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   map[string]float64
	}{
		{"none", nil},
		{"several", map[string]float64{"colour.mean_delta_e": 0.1 + 0.2, "exact.width": 128, "a.b:local.window_ratio": 1e-300}},
		{"extremes", map[string]float64{"x": math.MaxFloat64, "y": -0.0, "z": math.SmallestNonzeroFloat64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeMetrics(encodeMetrics(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.in) == 0 && len(got) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.in) {
				t.Errorf("round trip: got %v, want %v", got, tt.in)
			}
		})
	}
	if _, err := decodeMetrics("no equals sign\n"); err == nil {
		t.Error("a malformed line decoded")
	}
}
