package engine

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeValidate feeds arbitrary POST /prompt bodies through decoding,
// validation, re-encoding, signatures and execution ordering. Invariants: no
// panic; responses are valid JSON; an accepted
// prompt re-encodes to valid JSON and its plan is acyclic, with every node
// ordered exactly once after its dependencies.
func FuzzDecodeValidate(f *testing.F) {
	seeds := []string{
		`{"prompt": {"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}}`,
		`{"prompt": {"1": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": ["1", 0]}}, "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["1", 0]}}, "3": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}}`,
		`{"prompt": {"1": {"class_type": "TestOpts", "inputs": {"mode": "a", "strength": 0.5, "seed": 18446744073709551615, "label": {"__value__": [1, 2]}, "flag": "true"}}}, "client_id": "c", "extra_data": {"extra_pnginfo": {"workflow": {"x": 1}}}}`,
		`{"prompt": {"1": {"class_type": "TestList", "inputs": {"n": 3}}, "2": {"class_type": "TestSum", "inputs": {"values": ["1", 0.0]}}, "3": {"class_type": "TestOut", "inputs": {"value": ["2", 0]}}}, "number": 2.5, "front": true}`,
		`{"prompt": {"1": {"class_type": "TestValidated", "inputs": {"value": 13}}, "2": {"class_type": "TestOut", "inputs": {"value": ["9", 7]}}}, "partial_execution_targets": ["2"]}`,
		`{"prompt": {"1": {"inputs": {}}}}`,
		`{"prompt": []}`,
		`{"prompt": {"1": {"class_type": "TestBigCombo", "inputs": {"pick": 5}}}}`,
		`{"prompt`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	srv, _ := newTestEngine(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		sub := srv.Submit(body)
		b, err := json.Marshal(sub)
		if err != nil {
			t.Fatalf("marshal response: %v", err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid response JSON: %s", b)
		}
		running, pending := srv.queue.snapshot()
		if len(running) != 0 {
			t.Fatalf("nothing should run")
		}
		srv.queue.mu.Lock()
		items := append([]*item(nil), srv.queue.pending...)
		srv.queue.mu.Unlock()
		srv.queue.remove(true, nil)
		if !sub.Queued() {
			if len(pending) != 0 {
				t.Fatalf("a rejected prompt was queued")
			}
			return
		}
		if len(items) != 1 {
			t.Fatalf("accepted prompt queued %d times", len(items))
		}
		it := items[0]
		if !json.Valid(it.prompt) || !json.Valid(it.extra) {
			t.Fatalf("stored prompt or extra_data is not valid JSON: %s %s", it.prompt, it.extra)
		}
		tuple, err := json.Marshal(it.tuple())
		if err != nil || !json.Valid(tuple) {
			t.Fatalf("queue tuple: %v", err)
		}
		p := it.plan
		if len(p.outputs) == 0 {
			t.Fatalf("accepted a prompt with no outputs")
		}
		if _, err := signatures(p, func(*vnode) (string, bool) { return "", false }, "n"); err != nil {
			t.Fatalf("signatures: %v", err)
		}
		l := newExecutionList(p, func(string) bool { return false })
		done := map[string]bool{}
		for {
			id, ok := l.pop()
			if !ok {
				break
			}
			if done[id] {
				t.Fatalf("node %s ordered twice", id)
			}
			for _, d := range depsOf(p.nodes[id]) {
				if !done[d] {
					t.Fatalf("node %s ordered before its dependency %s", id, d)
				}
			}
			done[id] = true
			l.done(id)
		}
		for _, o := range p.outputs {
			if !done[o] {
				t.Fatalf("output %s never ordered", o)
			}
		}
	})
}
