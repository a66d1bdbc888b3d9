package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/internal/testnodes"
	"github.com/regen-dev/regen/executor/node"
)

type testServer struct {
	srv  *Server
	url  string
	cnt  *testnodes.Counter
	stop func()
}

// newTestServer returns a Server over the test registry, with the CPU
// backend, a silent logger and its folders in a temporary directory.
func newTestServer(tb testing.TB, grace time.Duration) (*Server, *testnodes.Counter) {
	tb.Helper()
	reg, cnt := testnodes.Registry(tb)
	dir := tb.TempDir()
	srv, err := New(Options{
		Dirs:          node.Dirs{Models: dir + "/models", Input: dir + "/input", Output: dir + "/output", Temp: dir + "/temp"},
		Backend:       cpu.New(),
		Registry:      reg,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		ShutdownGrace: grace,
	})
	if err != nil {
		tb.Fatalf("new server: %v", err)
	}
	return srv, cnt
}

// serve runs srv on a loopback port until cancel; done receives what Serve
// returned.
func serve(t *testing.T, srv *Server) (url string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- srv.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, ch
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	srv, cnt := newTestServer(t, 0)
	url, cancel, done := serve(t, srv)
	ts := &testServer{srv: srv, url: url, cnt: cnt}
	ts.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not return after cancel")
		}
	}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) post(t *testing.T, path, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(ts.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (ts *testServer) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(ts.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// run submits a prompt and waits for its history entry.
func (ts *testServer) run(t *testing.T, prompt string) map[string]any {
	t.Helper()
	code, body := ts.post(t, "/prompt", `{"prompt": `+prompt+`}`)
	if code != http.StatusOK {
		t.Fatalf("POST /prompt: %d %s", code, body)
	}
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, b := ts.get(t, "/history/"+r.PromptID)
		var h map[string]map[string]any
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("decode history: %v", err)
		}
		if e, ok := h[r.PromptID]; ok {
			return e
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("prompt %s did not finish", r.PromptID)
	return nil
}

func outputsText(e map[string]any, id string) []any {
	outs, _ := e["outputs"].(map[string]any)
	o, _ := outs[id].(map[string]any)
	l, _ := o["text"].([]any)
	return l
}

func TestListMapping(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		name   string
		prompt string
		want   []any
	}{
		{
			name: "output list maps the consumer over each element, repeating the shorter list",
			prompt: `{"1": {"class_type": "TestList", "inputs": {"n": 3}}, "2": {"class_type": "TestConst", "inputs": {"value": 10}},
				"3": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["2", 0]}}, "4": {"class_type": "TestOut", "inputs": {"value": ["3", 0]}}}`,
			want: []any{"10", "11", "12"},
		},
		{
			name: "input-is-list node gets the whole list once",
			prompt: `{"1": {"class_type": "TestList", "inputs": {"n": 4}}, "2": {"class_type": "TestSum", "inputs": {"values": ["1", 0]}},
				"3": {"class_type": "TestOut", "inputs": {"value": ["2", 0]}}}`,
			want: []any{"6"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := ts.run(t, tc.prompt)
			var last string
			for id := range e["outputs"].(map[string]any) {
				last = id
			}
			got := outputsText(e, last)
			if len(got) != len(tc.want) {
				t.Fatalf("outputs %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("output %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestCachedPromptDoesNotRerun(t *testing.T) {
	ts := startServer(t)
	prompt := `{"1": {"class_type": "TestConst", "inputs": {"value": 2}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`
	first := ts.run(t, prompt)
	second := ts.run(t, prompt)
	if got := ts.cnt.Get("TestConst") + ts.cnt.Get("TestOut"); got != 2 {
		t.Errorf("executions = %d, want 2 (the second prompt is served from cache)", got)
	}
	a, _ := json.Marshal(first["outputs"])
	b, _ := json.Marshal(second["outputs"])
	if !bytes.Equal(a, b) || len(outputsText(second, "2")) != 1 {
		t.Errorf("cached outputs %s differ from the first run's %s", b, a)
	}
	msgs, _ := json.Marshal(second["status"])
	if !strings.Contains(string(msgs), `"execution_cached",{"nodes":["1","2"]`) {
		t.Errorf("status %s does not list both nodes as cached", msgs)
	}
}

func TestExecutionErrorInHistory(t *testing.T) {
	ts := startServer(t)
	e := ts.run(t, `{"5": {"class_type": "TestFail", "inputs": {"value": 1}}}`)
	st := e["status"].(map[string]any)
	if st["status_str"] != "error" || st["completed"] != false {
		t.Errorf("status = %v, want error/false", st)
	}
	msgs := st["messages"].([]any)
	last := msgs[len(msgs)-1].([]any)
	if last[0] != "execution_error" {
		t.Fatalf("last message %v, want execution_error", last[0])
	}
	data := last[1].(map[string]any)
	for k, want := range map[string]any{"node_id": "5", "node_type": "TestFail", "exception_message": "boom", "exception_type": "RuntimeError"} {
		if data[k] != want {
			t.Errorf("%s = %v, want %v", k, data[k], want)
		}
	}
	ci, _ := json.Marshal(data["current_inputs"])
	if string(ci) != `{"value":[1]}` {
		t.Errorf("current_inputs = %s", ci)
	}
}

func TestMalformedAndOversizedBodies(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		name, body string
		code       int
		errType    string
	}{
		{"malformed JSON", `{"prompt": `, 400, "invalid_json"},
		{"not an object", `[1,2]`, 400, "invalid_json"},
		{"no prompt", `{"client_id": "x"}`, 400, "no_prompt"},
		{"prompt not an object", `{"prompt": [1]}`, 400, "invalid_prompt"},
		{"huge body", `{"prompt": "` + strings.Repeat("x", maxPromptBody) + `"}`, 413, "request_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ts.post(t, "/prompt", tc.body)
			if code != tc.code {
				t.Fatalf("code %d (%s), want %d", code, body, tc.code)
			}
			var r struct {
				Error struct{ Type string } `json:"error"`
			}
			_ = json.Unmarshal(body, &r)
			if r.Error.Type != tc.errType {
				t.Errorf("error type %q, want %q (%s)", r.Error.Type, tc.errType, body)
			}
		})
	}
}

func TestShutdownLetsTheRunningPromptFinishOrInterruptsIt(t *testing.T) {
	tests := []struct {
		name       string
		grace      time.Duration
		wantStatus string
	}{
		{"finishes within the grace period", 10 * time.Second, "success"},
		{"interrupted after the grace period", 50 * time.Millisecond, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newTestServer(t, tc.grace)
			_, cancel, done := serve(t, srv)
			if sub := srv.eng.Submit([]byte(`{"prompt": {"1": {"class_type": "TestSlow", "inputs": {"steps": 10}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}, "prompt_id": "11111111-1111-4111-8111-111111111111"}`)); !sub.Queued() {
				t.Fatalf("submit: %+v", sub.Error)
			}
			srv.eng.Submit([]byte(`{"prompt": {"1": {"class_type": "TestOut", "inputs": {"value": 1}}}, "prompt_id": "22222222-2222-4222-8222-222222222222"}`))
			for {
				if running, _ := srv.eng.Queue(); len(running) > 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("serve did not return")
			}
			entry, ok := srv.hist.get("11111111-1111-4111-8111-111111111111")
			if !ok {
				t.Fatalf("the running prompt has no history entry")
			}
			var e struct {
				Status struct {
					StatusStr string `json:"status_str"`
				} `json:"status"`
			}
			_ = json.Unmarshal(entry, &e)
			if e.Status.StatusStr != tc.wantStatus {
				t.Errorf("status %q, want %q", e.Status.StatusStr, tc.wantStatus)
			}
			if _, ok := srv.hist.get("22222222-2222-4222-8222-222222222222"); ok {
				t.Errorf("a pending prompt ran during shutdown")
			}
		})
	}
}
