package client

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, wantErr, wantEndpoint string
	}{
		{url: "http://127.0.0.1:8188", wantEndpoint: "http://127.0.0.1:8188/prompt"},
		{url: "https://comfy.example/api/", wantEndpoint: "https://comfy.example/api/prompt"},
		{url: "127.0.0.1:8188", wantErr: "want http://host:port"},
		{url: "ftp://x", wantErr: "want http://host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.endpoint("/prompt", nil); got != tt.wantEndpoint {
				t.Errorf("endpoint = %s, want %s", got, tt.wantEndpoint)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{})
	c := newTestClient(t, f.srv.URL)
	ctx := testContext(t)

	info, err := c.ObjectInfo(ctx)
	if err != nil {
		t.Fatalf("ObjectInfo: %v", err)
	}
	if seed, ok := info["KSampler"].Spec("seed"); !ok || !seed.ControlAfterGenerate() {
		t.Errorf("KSampler seed spec = %+v", seed)
	}

	st, err := c.SystemStats(ctx)
	if err != nil {
		t.Fatalf("SystemStats: %v", err)
	}
	if len(st.Devices) != 1 || st.Devices[0].Type != "cuda" || st.Devices[0].VRAMTotal != 150754820096 ||
		st.System.ComfyUIVersion != "0.3.65" || !bytes.Contains(st.Raw, []byte(`"argv"`)) {
		t.Errorf("system stats = %+v", st)
	}

	q, err := c.Queue(ctx)
	if err != nil {
		t.Fatalf("Queue: %v", err)
	}
	if len(q.Running) != 1 || len(q.Pending) != 2 || q.Pending[1].PromptID != "0a7d3c2b-8e44-4f9a-b1c3-2d4e5f6a7b33" || q.Pending[0].Number != 4 {
		t.Errorf("queue = %+v", q)
	}

	name, err := c.Upload(ctx, "portrait.png", []byte("PNGDATA"), UploadOptions{Subfolder: "regen", Overwrite: true})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if name != "regen/portrait (1).png" {
		t.Errorf("upload name = %q, want the server's name with its subfolder", name)
	}
	want := map[string]string{"filename": "portrait.png", "data": "PNGDATA", "type": "", "subfolder": "regen", "overwrite": "true"}
	for k, v := range want {
		if f.upload[k] != v {
			t.Errorf("upload field %s = %q, want %q", k, f.upload[k], v)
		}
	}

	data, err := c.View(ctx, ImageRef{Filename: "ComfyUI_00001_.png", Subfolder: "sub", Type: "output"})
	if err != nil || !bytes.Equal(data, f.png) {
		t.Errorf("View = %d bytes, %v", len(data), err)
	}
	_, err = c.View(ctx, ImageRef{Filename: "missing.png", Type: "output"})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 404 {
		t.Errorf("View missing = %v, want a 404 *HTTPError", err)
	}

	if err := c.Free(ctx, true, false); err != nil {
		t.Fatalf("Free: %v", err)
	}
	if f.freeBody["unload_models"] != true || f.freeBody["free_memory"] != false {
		t.Errorf("free body = %v", f.freeBody)
	}

	if _, err := c.History(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("History(unknown) = %v, want ErrNotFound", err)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c, err := New("http://127.0.0.1:1", WithRetries(100, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for attempt, want := range map[int]time.Duration{0: 100 * time.Millisecond, 1: 200 * time.Millisecond, 3: 800 * time.Millisecond, 9: 30 * time.Second, 63: 30 * time.Second, 99: 30 * time.Second} {
		if got := c.wait(attempt); got != want {
			t.Errorf("wait(%d) = %v, want %v", attempt, got, want)
		}
	}
}

func TestNoRequestTimeout(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{answers: []answer{{status: 200, file: "prompt-200.json"}}, ws: "ws-cached.jsonl", history: "history-cached.json"})
	if _, err := newTestClient(t, f.srv.URL, WithTimeout(0)).Run(testContext(t), testPrompt, RunOptions{}); err != nil {
		t.Fatalf("Run with WithTimeout(0): %v", err)
	}
}

func TestWaitReady(t *testing.T) {
	t.Parallel()
	f := newFake(t, &fakeComfy{})
	if err := newTestClient(t, f.srv.URL).WaitReady(testContext(t), time.Millisecond); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	dead := f.srv.URL
	f.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := newTestClient(t, dead).WaitReady(ctx, 5*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last error: get system_stats") {
		t.Errorf("WaitReady on a dead server = %v, want the deadline and the last error", err)
	}
}

func TestIsInfrastructure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"validation", &ValidationError{}, false},
		{"execution", &ExecutionError{}, false},
		{"interrupted", ErrInterrupted, false},
		{"timeout", ErrTimeout, true},
		{"5xx", &HTTPError{StatusCode: 503}, true},
		{"other", errors.New("connection reset by peer"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsInfrastructure(tt.err); got != tt.want {
				t.Errorf("IsInfrastructure(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
