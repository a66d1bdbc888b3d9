package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestCollectLate: only a compare turns the collector off (up to 1 GiB),
// and only when the environment does not set it.
func TestCollectLate(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		gogc     string
		wantLate bool
	}{
		{"compare", []string{"compare", "a.png", "b.png"}, "", true},
		{"run", []string{"run"}, "", false},
		{"no command", nil, "", false},
		{"GOGC set", []string{"compare", "a.png", "b.png"}, "200", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // not parallel: the GC settings are the process's
			t.Setenv("GOGC", tt.gogc)
			old := debug.SetGCPercent(100)
			defer debug.SetGCPercent(old)
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
			collectLate(tt.args)
			late := debug.SetGCPercent(100) == -1
			limit := debug.SetMemoryLimit(-1)
			if late != tt.wantLate {
				t.Errorf("collector off = %v, want %v", late, tt.wantLate)
			}
			if tt.wantLate && limit != 1<<30 {
				t.Errorf("memory limit = %d, want 1 GiB", limit)
			}
		})
	}
}
