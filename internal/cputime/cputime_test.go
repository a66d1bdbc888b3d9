//go:build unix

package cputime

import (
	"testing"
	"time"
)

func TestProcessAdvancesWithWork(t *testing.T) {
	t0 := Process()
	if t0 <= 0 {
		t.Fatalf("Process() = %v; want the time this test process has used", t0)
	}
	x := 1.0
	for deadline := t0 + 20*time.Millisecond; Process() < deadline; {
		for i := 0; i < 1e5; i++ {
			x = x*1.0000001 + 1e-9
		}
	}
	if t1 := Process(); t1 <= t0 || x == 0 {
		t.Fatalf("Process() went from %v to %v over a busy loop", t0, t1)
	}
}
