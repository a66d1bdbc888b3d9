package main

import "testing"

func TestMakespan(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		secs []float64
		n    int
		want float64
	}{
		{"one replica sums", []float64{1, 2, 3}, 1, 6},
		{"the longest case bounds", []float64{5, 1, 1, 1}, 2, 5},
		{"short cases fill in", []float64{3, 3, 2, 2, 2}, 2, 7},
		{"more replicas than cases", []float64{2, 1}, 4, 2},
		{"no cases", nil, 2, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := makespan(tt.secs, tt.n); got != tt.want {
				t.Errorf("makespan(%v, %d) = %v, want %v", tt.secs, tt.n, got, tt.want)
			}
		})
	}
}
