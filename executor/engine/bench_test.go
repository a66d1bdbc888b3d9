package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func chainPrompt(n int, base int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"prompt": {"0": {"class_type": "TestConst", "inputs": {"value": %d}}`, base)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, `, "%d": {"class_type": "TestAdd", "inputs": {"a": ["%d", 0], "b": ["%d", 0]}}`, i, i-1, i-1)
	}
	fmt.Fprintf(&b, `, "out": {"class_type": "TestOut", "inputs": {"value": ["%d", 0]}}}}`, n-1)
	return []byte(b.String())
}

// BenchmarkSubmitAndExecuteChain measures the engine's own cost per node
// (decode, validate, signatures, ordering, execution, history entry) on a chain
// of trivial nodes; the constant changes every iteration so nothing is
// cached.
func BenchmarkSubmitAndExecuteChain(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			srv, _ := newTestEngine(b, nil)
			bodies := [][]byte{chainPrompt(n, 1), chainPrompt(n, 2)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if sub := srv.Submit(bodies[i%2]); !sub.Queued() {
					b.Fatalf("submit: %+v", sub.Error)
				}
				it, err := srv.queue.next(context.Background())
				if err != nil || it == nil {
					b.Fatalf("next: %v", err)
				}
				srv.execute(it)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/node")
		})
	}
}
