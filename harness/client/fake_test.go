package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// answer is one scripted reply to POST /prompt.
type answer struct {
	status int
	file   string // testdata file, with {{PROMPT_ID}} and {{CLIENT_ID}} filled in
	// reset drops the connection without answering; with accept the
	// prompt was queued first.
	reset, accept bool
}

// fakeComfy is a ComfyUI stand-in that replays recorded responses from
// testdata and plays a websocket script (one JSON message per line, plus
// directives: {"_await": "prompt"|"interrupt"}, {"_sleep": ms},
// {"_drop": true}, {"_binary": {...}}).
type fakeComfy struct {
	t       testing.TB
	srv     *httptest.Server
	answers []answer
	ws      string // websocket script file
	history string // history file
	// historyEmpty answers {} to the first N GET /history/{id} calls.
	historyEmpty int
	// wsStatus, if set, answers GET /ws with this plain HTTP status (426
	// from a proxy that does not pass upgrades) instead of upgrading.
	wsStatus int
	png      []byte

	mu              sync.Mutex
	calls           []string
	promptBodies    []map[string]any
	promptID        string
	clientID        string
	historyCalls    int
	interruptBodies []map[string]any
	queueBodies     []map[string]any
	upload          map[string]string
	freeBody        map[string]any
	accepted        int // prompts accepted so far
	interrupted     chan struct{}
	interruptOnce   sync.Once
}

func newFake(tb testing.TB, f *fakeComfy) *fakeComfy {
	tb.Helper()
	f.t = tb
	f.interrupted = make(chan struct{})
	f.png = tinyPNG(tb)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", f.handleWS)
	mux.HandleFunc("POST /prompt", f.handlePrompt)
	mux.HandleFunc("GET /history/{id}", f.handleHistory)
	mux.HandleFunc("POST /interrupt", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		body := decodeBody(r)
		f.mu.Lock()
		f.interruptBodies = append(f.interruptBodies, body)
		f.mu.Unlock()
		f.interruptOnce.Do(func() { close(f.interrupted) })
	})
	mux.HandleFunc("POST /queue", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		body := decodeBody(r)
		f.mu.Lock()
		f.queueBodies = append(f.queueBodies, body)
		f.mu.Unlock()
	})
	for path, file := range map[string]string{"GET /queue": "queue.json", "GET /system_stats": "system-stats.json", "GET /object_info": "object-info.json"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			f.record(r)
			_, _ = w.Write(f.fixture(file))
		})
	}
	mux.HandleFunc("GET /view", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		q := r.URL.Query()
		if q.Get("filename") != "ComfyUI_00001_.png" || q.Get("type") != "output" || q.Get("subfolder") != "sub" {
			http.Error(w, "404: Not Found", http.StatusNotFound)
			return
		}
		_, _ = w.Write(f.png)
	})
	mux.HandleFunc("POST /upload/image", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		file, hdr, err := r.FormFile("image")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(file)
		f.mu.Lock()
		f.upload = map[string]string{"filename": hdr.Filename, "data": string(data), "type": r.FormValue("type"),
			"subfolder": r.FormValue("subfolder"), "overwrite": r.FormValue("overwrite")}
		f.mu.Unlock()
		_, _ = w.Write(f.fixture("upload.json"))
	})
	mux.HandleFunc("POST /free", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		body := decodeBody(r)
		f.mu.Lock()
		f.freeBody = body
		f.mu.Unlock()
	})
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeComfy) record(r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
}

func (f *fakeComfy) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == call {
			n++
		}
	}
	return n
}

func (f *fakeComfy) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fixture reads a testdata file with the ids filled in.
func (f *fakeComfy) fixture(name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.t.Errorf("fixture: %v", err)
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.ReplaceAll(string(data), "{{PROMPT_ID}}", f.promptID)
	return []byte(strings.ReplaceAll(s, "{{CLIENT_ID}}", f.clientID))
}

func decodeBody(r *http.Request) map[string]any {
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	return m
}

func (f *fakeComfy) handlePrompt(w http.ResponseWriter, r *http.Request) {
	f.record(r)
	body := decodeBody(r)
	f.mu.Lock()
	f.promptBodies = append(f.promptBodies, body)
	n := len(f.promptBodies)
	a := f.answers[min(n, len(f.answers))-1]
	f.mu.Unlock()
	if a.accept || a.status == http.StatusOK {
		f.mu.Lock()
		f.promptID, _ = body["prompt_id"].(string)
		f.mu.Unlock()
	}
	if a.reset {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			f.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
		if a.accept {
			f.accept()
		}
		return
	}
	w.WriteHeader(a.status)
	if a.file != "" {
		_, _ = w.Write(f.fixture(a.file))
	} else {
		_, _ = io.WriteString(w, http.StatusText(a.status))
	}
	if a.status == http.StatusOK {
		f.accept()
	}
}

func (f *fakeComfy) accept() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepted++
}

// awaitAccepted waits until more than n prompts were accepted.
func (f *fakeComfy) awaitAccepted(ctx context.Context, n int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		f.mu.Lock()
		done := f.accepted > n
		f.mu.Unlock()
		if done {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

func (f *fakeComfy) handleHistory(w http.ResponseWriter, r *http.Request) {
	f.record(r)
	f.mu.Lock()
	f.historyCalls++
	empty := f.historyCalls <= f.historyEmpty || r.PathValue("id") != f.promptID
	f.mu.Unlock()
	if empty || f.history == "" {
		_, _ = io.WriteString(w, "{}")
		return
	}
	_, _ = w.Write(f.fixture(f.history))
}

func (f *fakeComfy) handleWS(w http.ResponseWriter, r *http.Request) {
	f.record(r)
	f.mu.Lock()
	f.clientID = r.URL.Query().Get("clientId")
	acceptedBefore := f.accepted
	f.mu.Unlock()
	if f.wsStatus != 0 {
		http.Error(w, http.StatusText(f.wsStatus), f.wsStatus)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		f.t.Errorf("accept websocket: %v", err)
		return
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context())
	script, err := os.ReadFile(filepath.Join("testdata", f.ws))
	if err != nil {
		f.t.Errorf("ws script: %v", err)
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(script))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var d struct {
			Await  string `json:"_await"`
			Sleep  int    `json:"_sleep"`
			Drop   bool   `json:"_drop"`
			Binary *struct {
				Event, Format uint32
				Image, Text   string
			} `json:"_binary"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			f.t.Errorf("ws script line %q: %v", line, err)
			return
		}
		switch {
		case d.Await == "prompt":
			if !f.awaitAccepted(ctx, acceptedBefore) {
				return
			}
		case d.Await != "":
			select {
			case <-f.interrupted:
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Second):
				f.t.Errorf("ws script: timed out awaiting %s", d.Await)
				return
			}
		case d.Sleep > 0:
			time.Sleep(time.Duration(d.Sleep) * time.Millisecond)
		case d.Drop:
			return // CloseNow without a close frame
		case d.Binary != nil:
			msg := binary.BigEndian.AppendUint32(nil, d.Binary.Event)
			switch d.Binary.Event {
			case binText:
				msg = binary.BigEndian.AppendUint32(msg, uint32(len(d.Binary.Text)))
				msg = append(append(msg, d.Binary.Text...), "saving"...)
			default:
				msg = binary.BigEndian.AppendUint32(msg, d.Binary.Format)
				if d.Binary.Image == "png" {
					msg = append(msg, f.png...)
				} else {
					msg = append(msg, d.Binary.Image...)
				}
			}
			if err := conn.Write(ctx, websocket.MessageBinary, msg); err != nil {
				return
			}
		default:
			f.mu.Lock()
			s := strings.ReplaceAll(line, "{{PROMPT_ID}}", f.promptID)
			s = strings.ReplaceAll(s, "{{CLIENT_ID}}", f.clientID)
			f.mu.Unlock()
			if err := conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
				return
			}
		}
	}
	<-ctx.Done()
}

func tinyPNG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.NRGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// refusingTransport refuses the first n connections to paths matching
// path ("" matches all) as a dead server would.
type refusingTransport struct {
	path string
	n    atomic.Int32
}

func (t *refusingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if (t.path == "" || r.URL.Path == t.path) && t.n.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func newTestClient(tb testing.TB, url string, opts ...Option) *Client {
	tb.Helper()
	base := []Option{WithLogger(slog.New(slog.DiscardHandler)), WithRetries(3, time.Millisecond), WithPollInterval(10 * time.Millisecond), WithTimeout(5 * time.Second)}
	c, err := New(url, append(base, opts...)...)
	if err != nil {
		tb.Fatalf("new client: %v", err)
	}
	return c
}

var testPrompt = map[string]any{"9": map[string]any{"class_type": "SaveImage", "inputs": map[string]any{"filename_prefix": "ComfyUI"}}}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
