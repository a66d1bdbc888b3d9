package client

import "testing"

// BenchmarkRun measures the client's own cost of one prompt round trip
// (websocket, POST, events, history) against the recorded-response server.
func BenchmarkRun(b *testing.B) {
	f := newFake(b, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-cached.jsonl", history: "history-cached.json"})
	c := newTestClient(b, f.srv.URL)
	ctx := testContext(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Run(ctx, testPrompt, RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
