package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/internal/testnodes"
	"github.com/regen-dev/regen/executor/node"
)

// newTestEngine returns an Engine over the test node classes, with the CPU
// backend, a silent logger, its folders in a temporary directory and sink
// (nil: none).
func newTestEngine(tb testing.TB, sink Sink) (*Engine, *testnodes.Counter) {
	tb.Helper()
	reg, cnt := testnodes.Registry(tb)
	dir := tb.TempDir()
	en, err := New(Options{
		Registry: reg,
		Backend:  cpu.New(),
		Dirs:     node.Dirs{Models: dir + "/models", Input: dir + "/input", Output: dir + "/output", Temp: dir + "/temp"},
		Sink:     sink,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatalf("new engine: %v", err)
	}
	return en, cnt
}

// recorder is a fake Sink: it records every report, in order, as a short
// line ("executing 2", "node_done 2 TestAdd", "prompt_done success").
type recorder struct {
	listening bool
	// onProgress, when set, runs on each Progress (on the worker).
	onProgress func(Progress)

	mu    sync.Mutex
	lines []string
	// cached holds the nodes of each execution_cached event.
	cached [][]string
	done   chan PromptDone
}

func newRecorder(listening bool) *recorder {
	return &recorder{listening: listening, done: make(chan PromptDone, 16)}
}

func (r *recorder) add(line string) {
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
}

func (r *recorder) Listening() bool { return r.listening }

func (r *recorder) Event(ev Event) {
	line := ev.Type
	data, _ := ev.Data.(ordered)
	for _, f := range data {
		if f.K == "node" {
			line += fmt.Sprintf(" %v", f.V)
		}
		if ev.Type == "execution_cached" && f.K == "nodes" {
			nodes, _ := f.V.([]string)
			r.mu.Lock()
			r.cached = append(r.cached, append([]string{}, nodes...))
			r.mu.Unlock()
		}
	}
	r.add(line)
}

func (r *recorder) Preview(p Preview) { r.add("preview " + p.NodeID) }

func (r *recorder) Progress(p Progress) {
	r.add(fmt.Sprintf("progress_step %s %d/%d", p.NodeID, p.Value, p.Max))
	if r.onProgress != nil {
		r.onProgress(p)
	}
}

func (r *recorder) NodeDone(n NodeDone) {
	line := "node_done " + n.NodeID + " " + n.Class
	if n.Err != nil {
		line += " error"
	}
	r.add(line)
}

func (r *recorder) PromptDone(p PromptDone) {
	r.add("prompt_done " + p.Outcome)
	r.done <- p
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

// runOne submits body, runs the engine until the prompt is done and
// returns what the sink recorded and the PromptDone.
func runOne(t *testing.T, en *Engine, rec *recorder, body string) ([]string, PromptDone) {
	t.Helper()
	if sub := en.Submit([]byte(body)); !sub.Queued() {
		t.Fatalf("submit: %+v %+v", sub.Error, sub.NodeErrors)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		en.Run(ctx)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	select {
	case pd := <-rec.done:
		// The status and the final executing event follow PromptDone.
		deadline := time.Now().Add(5 * time.Second)
		for en.queue.current() != nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
		return rec.take(), pd
	case <-time.After(20 * time.Second):
		t.Fatalf("prompt did not finish; recorded %q", rec.take())
	}
	return nil, PromptDone{}
}

const chain = `{"prompt": {
	"1": {"class_type": "TestConst", "inputs": {"value": 2}},
	"2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["1", 0]}},
	"3": {"class_type": "TestOut", "inputs": {"value": ["2", 0]}}},
	"client_id": "c", "prompt_id": "11111111-1111-4111-8111-111111111111"}`

func TestEngineRunsAGraphWithoutAServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		listening bool
		want      []string
	}{
		{
			name:      "a listener gets every event, in ComfyUI's order",
			listening: true,
			want: []string{
				"status", // queued
				"status", // taken by the worker
				"execution_start",
				"execution_cached",
				// 0.33.0: progress_state (running) before executing, and
				// (finished) after executed.
				"progress_state", "executing 1", "node_done 1 TestConst", "progress_state",
				"progress_state", "executing 2", "node_done 2 TestAdd", "progress_state",
				"progress_state", "executing 3", "node_done 3 TestOut", "executed 3", "progress_state",
				"execution_success",
				"prompt_done success",
				"status", // done
				"executing <nil>",
			},
		},
		{
			name:      "without a listener the costly events are not built",
			listening: false,
			want: []string{
				"execution_start",
				"execution_cached",
				"executing 1", "node_done 1 TestConst",
				"executing 2", "node_done 2 TestAdd",
				"executing 3", "node_done 3 TestOut", "executed 3",
				"execution_success",
				"prompt_done success",
				"executing <nil>",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(tc.listening)
			en, cnt := newTestEngine(t, rec)
			got, pd := runOne(t, en, rec, chain)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events\n got %q\nwant %q", got, tc.want)
			}
			var entry struct {
				Outputs map[string]struct {
					Text []string `json:"text"`
				} `json:"outputs"`
				Status struct {
					StatusStr string `json:"status_str"`
					Completed bool   `json:"completed"`
				} `json:"status"`
			}
			if err := json.Unmarshal(pd.Entry, &entry); err != nil {
				t.Fatalf("history entry %s: %v", pd.Entry, err)
			}
			if entry.Status.StatusStr != "success" || !entry.Status.Completed || !reflect.DeepEqual(entry.Outputs["3"].Text, []string{"4"}) {
				t.Errorf("history entry %s", pd.Entry)
			}
			if pd.PromptID != "11111111-1111-4111-8111-111111111111" || pd.Executed != 3 {
				t.Errorf("PromptDone %+v", pd)
			}
			if n := cnt.Get("TestConst") + cnt.Get("TestAdd") + cnt.Get("TestOut"); n != 3 {
				t.Errorf("%d node executions, want 3", n)
			}
		})
	}
}

func TestEngineServesARepeatedPromptFromItsCache(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	en, cnt := newTestEngine(t, rec)
	runOne(t, en, rec, chain)
	got, pd := runOne(t, en, rec, chain)
	want := []string{"execution_start", "execution_cached", "executed 3", "execution_success", "prompt_done success", "executing <nil>"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("second run's events\n got %q\nwant %q", got, want)
	}
	if pd.Outcome != OutcomeSuccess || cnt.Get("TestAdd") != 1 {
		t.Errorf("outcome %s, TestAdd ran %d times (want 1)", pd.Outcome, cnt.Get("TestAdd"))
	}
}

// TestEngineListsCachedNodesOutsideTheExecutedGraph follows ComfyUI 0.33.0
// (execution.py execute_async): execution_cached lists every node of the
// prompt whose result is cached, in prompt order, including nodes that the
// prompt does not execute (left out by partial_execution_targets, dangling,
// or under an output that failed validation), and their results survive
// the prompt. The prompts are the ones run against a real 0.33.0 with
// LoadImage and PreviewImage in place of TestConst and TestOut; the lists
// are what it sent.
func TestEngineListsCachedNodesOutsideTheExecutedGraph(t *testing.T) {
	t.Parallel()
	const (
		c2   = `{"class_type": "TestConst", "inputs": {"value": 2}}`
		c5   = `{"class_type": "TestConst", "inputs": {"value": 5}}`
		out1 = `{"class_type": "TestOut", "inputs": {"value": ["1", 0]}}`
	)
	rec := newRecorder(false)
	en, cnt := newTestEngine(t, rec)
	steps := []struct {
		name   string
		prompt string
		extra  string
		want   []string
	}{
		{"first run: nothing cached", `"1": ` + c2 + `, "2": ` + out1, ``, []string{}},
		{"partial execution: the left-out output and its input are listed",
			`"3": ` + c5 + `, "4": {"class_type": "TestOut", "inputs": {"value": ["3", 0]}}, "1": ` + c2 + `, "2": ` + out1,
			`, "partial_execution_targets": ["4"]`, []string{"1", "2"}},
		{"a dangling node kept from the run before is listed",
			`"5": ` + c5 + `, "1": ` + c2 + `, "6": {"class_type": "TestOut", "inputs": {"value": ["5", 0]}}`, ``, []string{"5", "1", "6"}},
		{"an output absent from the prompt before was dropped", `"1": ` + c2 + `, "2": ` + out1, ``, []string{"1"}},
		{"the input of an output that failed validation is listed",
			`"7": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["1", 0]}}, "8": {"class_type": "TestOut", "inputs": {"value": ["7", 0]}}, "1": ` + c2 + `, "2": {"class_type": "TestOut", "inputs": {}}`,
			``, []string{"1"}},
		{"a dangling cycle and a link to a missing node are never cached",
			`"9": {"class_type": "TestAdd", "inputs": {"a": ["10", 0], "b": ["1", 0]}}, "10": {"class_type": "TestAdd", "inputs": {"a": ["9", 0], "b": ["1", 0]}}, "11": {"class_type": "TestAdd", "inputs": {"a": ["99", 0], "b": ["1", 0]}}, "1": ` + c2 + `, "7": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["1", 0]}}, "8": {"class_type": "TestOut", "inputs": {"value": ["7", 0]}}`,
			``, []string{"1", "7", "8"}},
	}
	for i, st := range steps {
		body := fmt.Sprintf(`{"prompt": {%s}, "client_id": "c", "prompt_id": "00000000-0000-4000-8000-%012d"%s}`, st.prompt, i, st.extra)
		_, pd := runOne(t, en, rec, body)
		if pd.Outcome != OutcomeSuccess {
			t.Fatalf("%s: outcome %s", st.name, pd.Outcome)
		}
		rec.mu.Lock()
		got := rec.cached[len(rec.cached)-1]
		rec.mu.Unlock()
		if !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: execution_cached nodes %q, want %q", st.name, got, st.want)
		}
	}
	// TestConst 2 and 5 once each; nothing listed as cached ran again.
	if n := cnt.Get("TestConst"); n != 2 {
		t.Errorf("TestConst ran %d times, want 2", n)
	}
}

func TestEngineReportsFailureAndInterrupt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		body        string
		interruptAt int // interrupt on this progress step; 0: never
		wantOutcome string
		wantEvents  []string // in this order among the recorded lines
	}{
		{
			name:        "a failing node ends the prompt with execution_error",
			body:        `{"prompt": {"1": {"class_type": "TestFail", "inputs": {"value": 1}}}}`,
			wantOutcome: OutcomeError,
			wantEvents:  []string{"executing 1", "node_done 1 TestFail error", "execution_error", "prompt_done error"},
		},
		{
			name:        "an interrupt between steps ends the prompt with execution_interrupted",
			body:        `{"prompt": {"1": {"class_type": "TestSlow", "inputs": {"steps": 50}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}}`,
			interruptAt: 2,
			wantOutcome: OutcomeInterrupted,
			wantEvents: []string{"executing 1", "progress_step 1 1/50", "progress 1", "progress_step 1 2/50",
				"node_done 1 TestSlow error", "execution_interrupted", "prompt_done interrupted"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(true)
			en, _ := newTestEngine(t, rec)
			if tc.interruptAt > 0 {
				rec.onProgress = func(p Progress) {
					if p.Value == tc.interruptAt && !en.Interrupt("") {
						t.Errorf("Interrupt found no running prompt")
					}
				}
			}
			got, pd := runOne(t, en, rec, tc.body)
			if pd.Outcome != tc.wantOutcome {
				t.Errorf("outcome %s, want %s", pd.Outcome, tc.wantOutcome)
			}
			i := 0
			for _, line := range got {
				if i < len(tc.wantEvents) && line == tc.wantEvents[i] {
					i++
				}
			}
			if i != len(tc.wantEvents) {
				t.Errorf("recorded %q\nwant, in order, %q (missing from %q)", got, tc.wantEvents, tc.wantEvents[i])
			}
		})
	}
}
