package client

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunSuccess(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-success.jsonl", history: "history-success.json"})
	c := newTestClient(t, f.srv.URL)
	var progress []int
	res, err := c.Run(testContext(t), testPrompt, RunOptions{
		ExtraPNGInfo: map[string]any{"workflow": map[string]any{"nodes": []any{}}},
		Progress:     func(node string, v, max int) { progress = append(progress, v) },
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if log := f.callLog(); len(log) < 2 || log[0] != "GET /ws" || log[1] != "POST /prompt" {
		t.Errorf("calls = %v, want the websocket opened before POST /prompt", log)
	}
	body := f.promptBodies[0]
	if body["client_id"] != f.clientID || body["client_id"] == "" {
		t.Errorf("client_id = %v, websocket clientId = %q", body["client_id"], f.clientID)
	}
	if body["prompt_id"] != res.PromptID || res.PromptID == "" {
		t.Errorf("prompt_id sent %v, result %q", body["prompt_id"], res.PromptID)
	}
	extra, _ := body["extra_data"].(map[string]any)
	if pnginfo, _ := extra["extra_pnginfo"].(map[string]any); pnginfo["workflow"] == nil {
		t.Errorf("extra_data = %v, want extra_pnginfo.workflow", body["extra_data"])
	}
	want := []ImageRef{{Filename: "ComfyUI_00001_.png", Type: "output"}}
	if got := res.Outputs["9"].Images; !reflect.DeepEqual(got, want) {
		t.Errorf("outputs[9] = %v, want %v", got, want)
	}
	if _, ok := res.Outputs["99"]; ok {
		t.Error("another prompt's output leaked into the result")
	}
	if wantExec := []string{"4", "7", "6", "5", "3", "8", "9"}; !slices.Equal(res.Executed, wantExec) {
		t.Errorf("executed = %v, want %v", res.Executed, wantExec)
	}
	if len(res.Cached) != 0 || res.Status.StatusStr != "success" || !res.Status.Completed || res.Polled {
		t.Errorf("cached %v status %+v polled %v", res.Cached, res.Status, res.Polled)
	}
	if res.Timings["3"] < 15*time.Millisecond || len(res.Timings) != 7 {
		t.Errorf("timings = %v, want 7 nodes and node 3 ≥ 15ms (it slept 20ms)", res.Timings)
	}
	if !slices.Equal(progress, []int{1, 2}) {
		t.Errorf("progress = %v, want [1 2]", progress)
	}
	if res.Number != "3" || len(res.NodeErrors) != 0 {
		t.Errorf("number %v node errors %v", res.Number, res.NodeErrors)
	}
}

func TestRunCached(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-cached.jsonl", history: "history-cached.json"})
	res, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := []string{"4", "5", "6", "7", "3", "8", "9"}; !slices.Equal(res.Cached, want) {
		t.Errorf("cached = %v, want %v", res.Cached, want)
	}
	if len(res.Executed) != 0 || len(res.Outputs["9"].Images) != 1 {
		t.Errorf("executed %v outputs %v", res.Executed, res.Outputs)
	}
}

func TestRunValidationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		file      string
		wantNodes []string
		wantMsg   []string
	}{
		{name: "outputs failed validation", file: "prompt-400-validation.json", wantNodes: []string{"3", "4"},
			wantMsg: []string{"Prompt outputs failed validation (prompt_outputs_failed_validation)",
				"node 3 (KSampler): Value not in list: sampler_name: 'euler_typo' not in (list of length 44) [value_not_in_list]",
				"node 3 (KSampler): Value bigger than max: steps: 20000 > 10000",
				"node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name"}},
		{name: "unknown class", file: "prompt-400-invalid.json",
			wantMsg: []string{"Cannot execute because node GeminiImage2Node does not exist. (invalid_prompt): Node ID '#9'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, &fakeComfy{answers: []answer{{status: 400, file: tt.file}}, ws: "ws-hang.jsonl"})
			res, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{})
			var ve *ValidationError
			if !errors.As(err, &ve) || res != nil {
				t.Fatalf("Run = %v, %v; want *ValidationError", res, err)
			}
			var nodes []string
			for id := range ve.NodeErrors {
				nodes = append(nodes, id)
			}
			slices.Sort(nodes)
			if !slices.Equal(nodes, tt.wantNodes) {
				t.Errorf("node errors for %v, want %v", nodes, tt.wantNodes)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q:\n%v", w, err)
				}
			}
			if IsInfrastructure(err) || f.count("POST /prompt") != 1 {
				t.Errorf("IsInfrastructure = %v, POSTs = %d; a 400 is a verdict, not retried", IsInfrastructure(err), f.count("POST /prompt"))
			}
		})
	}
}

func TestRunAcceptedWithNodeErrors(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200-node-errors.json"}}, ws: "ws-success.jsonl", history: "history-success.json"})
	res, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	ne, ok := res.NodeErrors["12"]
	if !ok || ne.ClassType != "PreviewImage" || ne.Errors[0].Type != "required_input_missing" {
		t.Errorf("node errors = %+v", res.NodeErrors)
	}
}

func TestRunExecutionError(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-error.jsonl", history: "history-error.json"})
	res, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{})
	var ee *ExecutionError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *ExecutionError", err)
	}
	if ee.NodeID != "3" || ee.NodeType != "KSampler" || ee.ExceptionType != "torch.OutOfMemoryError" ||
		len(ee.Traceback) != 2 || !slices.Equal(ee.Executed, []string{"4", "5", "6", "7"}) || ee.PromptID != res.PromptID {
		t.Errorf("execution error = %+v", ee)
	}
	if !strings.Contains(err.Error(), "node 3 (KSampler) failed: torch.OutOfMemoryError: Allocation on device") {
		t.Errorf("message = %v", err)
	}
	if res == nil || res.Status.StatusStr != "error" || IsInfrastructure(err) {
		t.Errorf("result %+v, IsInfrastructure %v", res, IsInfrastructure(err))
	}
}

func TestRunServerInterrupted(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-interrupted.jsonl", history: "history-interrupted.json"})
	_, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{})
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "at node 3 (KSampler)") {
		t.Fatalf("err = %v, want ErrInterrupted at node 3", err)
	}
}

func TestRunCancelInterrupts(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-interrupt.jsonl", history: "history-interrupted.json"})
	ctx, cancel := context.WithCancel(testContext(t))
	// The prompt is running (a progress event came): the user presses ^C.
	cancelOnProgress := func(node string, v, max int) { cancel() }
	res, err := newTestClient(t, f.srv.URL).Run(ctx, testPrompt, RunOptions{Progress: cancelOnProgress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f.count("POST /interrupt") != 1 {
		t.Fatalf("calls = %v, want one POST /interrupt", f.callLog())
	}
	if got := f.interruptBodies[0]["prompt_id"]; got != res.PromptID {
		t.Errorf("interrupt prompt_id = %v, want %s", got, res.PromptID)
	}
	if ids, _ := f.queueBodies[0]["delete"].([]any); len(ids) != 1 || ids[0] != res.PromptID {
		t.Errorf("queue delete = %v, want [%s]", f.queueBodies[0], res.PromptID)
	}
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-hang.jsonl", history: "history-success.json", historyEmpty: 1 << 30})
	start := time.Now()
	_, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{Timeout: 150 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !IsInfrastructure(err) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if f.count("POST /interrupt") != 1 {
		t.Errorf("calls = %v, want the timed-out prompt interrupted", f.callLog())
	}
}

func TestRunWebsocketDropPollsHistory(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-drop.jsonl", history: "history-cached.json", historyEmpty: 3})
	res, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Polled || f.historyCalls < 4 {
		t.Errorf("polled = %v after %d history calls, want polling until the entry appears", res.Polled, f.historyCalls)
	}
	if len(res.Outputs["9"].Images) != 1 || len(res.Cached) != 7 {
		t.Errorf("outputs %v cached %v: want them from history", res.Outputs, res.Cached)
	}
	if f.count("POST /prompt") != 1 {
		t.Error("prompt resubmitted after the websocket dropped")
	}
}

func TestRunSilentWebsocketPollsHistory(t *testing.T) {
	t.Parallel()
	// The socket stays up but the end of the prompt never arrives on it (a
	// proxy lost it): the slow history poll finds the finished entry.
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-hang.jsonl", history: "history-success.json", historyEmpty: 2})
	res, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Polled || len(res.Outputs["9"].Images) != 1 || !slices.Equal(res.Executed, []string{"3"}) {
		t.Errorf("polled %v outputs %v executed %v", res.Polled, res.Outputs, res.Executed)
	}
}

func TestRunWebsocketImages(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-images.jsonl", history: "history-ws-images.json"})
	res, err := newTestClient(t, f.srv.URL).Run(testContext(t), testPrompt, RunOptions{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	imgs := res.WSImages["save_image_websocket_node"]
	if len(imgs) != 1 || !bytes.Equal(imgs[0], f.png) {
		t.Fatalf("ws images = %d for the node (all: %d nodes), want the PNG", len(imgs), len(res.WSImages))
	}
	if _, err := png.Decode(bytes.NewReader(imgs[0])); err != nil {
		t.Errorf("decode: %v", err)
	}
	if res.Previews != 1 || len(res.WSImages) != 1 {
		t.Errorf("previews = %d, ws images %v: the JPEG preview is not an output", res.Previews, len(res.WSImages))
	}
}

func TestRunRetries(t *testing.T) {
	t.Parallel()
	ok := answer{status: 200, file: "prompt-200.json"}
	tests := []struct {
		name      string
		answers   []answer
		refuse    *refusingTransport
		wantErr   string
		wantPosts int
	}{
		{name: "503 twice then accepted", answers: []answer{{status: 503}, {status: 503}, ok}, wantPosts: 3},
		{name: "502 is retried too", answers: []answer{{status: 502}, ok}, wantPosts: 2},
		{name: "connection refused to /prompt", answers: []answer{ok}, refuse: &refusingTransport{path: "/prompt"}, wantPosts: 1},
		{name: "connection refused to the websocket", answers: []answer{ok}, refuse: &refusingTransport{path: "/ws"}, wantPosts: 1},
		{name: "503 beyond the retries", answers: []answer{{status: 503}}, wantErr: "503 Service Unavailable", wantPosts: 4},
		{name: "reset after acceptance: followed, not resubmitted", answers: []answer{{reset: true, accept: true}, ok}, wantPosts: 1},
		{name: "reset, prompt not found: reported, not resubmitted", answers: []answer{{reset: true}, ok},
			wantErr: "the server may have queued it; not resubmitted", wantPosts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, &fakeComfy{answers: tt.answers, ws: "ws-success.jsonl", history: "history-success.json"})
			var opts []Option
			if tt.refuse != nil {
				tt.refuse.n.Store(2)
				opts = append(opts, WithHTTPClient(&http.Client{Transport: tt.refuse}))
			}
			res, err := newTestClient(t, f.srv.URL, opts...).Run(testContext(t), testPrompt, RunOptions{})
			if got := f.count("POST /prompt"); got != tt.wantPosts {
				t.Errorf("POST /prompt %d times, want %d", got, tt.wantPosts)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsInfrastructure(err) {
					t.Fatalf("err = %v, want an infrastructure error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(res.Outputs["9"].Images) != 1 {
				t.Errorf("outputs = %v", res.Outputs)
			}
		})
	}
}

func TestRunServerDown(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200}}})
	url := f.srv.URL
	f.srv.Close()
	_, err := newTestClient(t, url).Run(testContext(t), testPrompt, RunOptions{})
	if err == nil || !IsInfrastructure(err) || !strings.Contains(err.Error(), "open websocket") {
		t.Fatalf("err = %v, want an infrastructure error opening the websocket", err)
	}
}

// TestRunWithoutWebsocketPollsHistory: behind a plain HTTP proxy /ws
// answers 426; Run follows the prompt by polling /history instead of
// failing, does not dial /ws again, and says so once per client.
func TestRunWithoutWebsocketPollsHistory(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUpgradeRequired, http.StatusNotFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}, {status: 200, file: "prompt-200.json"}},
				ws: "ws-success.jsonl", history: "history-success.json", historyEmpty: 3, wsStatus: status})
			var logs syncBuffer
			c := newTestClient(t, f.srv.URL, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			for i := range 2 {
				res, err := c.Run(testContext(t), testPrompt, RunOptions{})
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				if !res.Polled || len(res.Outputs["9"].Images) != 1 || res.Status.StatusStr != "success" {
					t.Errorf("run %d: polled %v outputs %v status %+v: want the entry from polled history", i, res.Polled, res.Outputs, res.Status)
				}
			}
			if n := f.count("GET /ws"); n != 1 {
				t.Errorf("GET /ws %d times, want 1 (no retries, remembered for the next run)", n)
			}
			if n := f.count("POST /prompt"); n != 2 {
				t.Errorf("POST /prompt %d times, want 2", n)
			}
			if n := strings.Count(logs.String(), "no websocket: following prompts by polling /history"); n != 1 {
				t.Errorf("said %d times, want once:\n%s", n, logs.String())
			}
		})
	}
}

func TestPollBackoff(t *testing.T) {
	t.Parallel()
	const iv = 100 * time.Millisecond
	for n, want := range []time.Duration{iv, 2 * iv, 4 * iv, 4 * iv, 4 * iv} {
		if got := pollBackoff(iv, n); got != want {
			t.Errorf("pollBackoff(%v, %d) = %v, want %v", iv, n, got, want)
		}
	}
	if got := pollBackoff(iv, 1000); got != maxPollBackoff*iv {
		t.Errorf("pollBackoff after many polls = %v, want the cap %v", got, maxPollBackoff*iv)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
