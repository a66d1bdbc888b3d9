package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/server"
)

// harness is one running executor.
type harness struct {
	base string
	dirs node.Dirs
	runs *runCounter
}

// startExecutor starts a fresh executor on a loopback port for the current
// spec and stops it when the spec ends.
func startExecutor() *harness {
	GinkgoHelper()
	pack, runs := testPack()
	reg, err := node.NewRegistry(pack...)
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	dirs := node.Dirs{Models: dir + "/models", Input: dir + "/input", Output: dir + "/output", Temp: dir + "/temp"}
	srv, err := server.New(server.Options{
		Dirs: dirs, Backend: cpu.New(), Registry: reg, MaxUploadSize: 1 << 20,
		Logger: slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	Expect(err).NotTo(HaveOccurred())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	DeferCleanup(func() {
		cancel()
		Eventually(done, 20*time.Second).Should(Receive(BeNil()))
	})
	return &harness{base: "http://" + ln.Addr().String(), dirs: dirs, runs: runs}
}

func (h *harness) do(method, path, ctype string, body io.Reader) (int, []byte) {
	GinkgoHelper()
	req, err := http.NewRequest(method, h.base+path, body)
	Expect(err).NotTo(HaveOccurred())
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, b
}

func (h *harness) get(path string) (int, []byte) {
	GinkgoHelper()
	return h.do(http.MethodGet, path, "", nil)
}

func (h *harness) postJSON(path string, v any) (int, []byte) {
	GinkgoHelper()
	var body []byte
	switch x := v.(type) {
	case string:
		body = []byte(x)
	case []byte:
		body = x
	default:
		var err error
		body, err = json.Marshal(v)
		Expect(err).NotTo(HaveOccurred())
	}
	return h.do(http.MethodPost, path, "application/json", bytes.NewReader(body))
}

// queue submits prompt (JSON text) for clientID and returns the prompt id.
func (h *harness) queue(prompt, clientID string, extra ...string) string {
	GinkgoHelper()
	body := `{"prompt": ` + prompt
	if clientID != "" {
		body += `, "client_id": "` + clientID + `"`
	}
	for _, e := range extra {
		body += ", " + e
	}
	body += "}"
	code, resp := h.postJSON("/prompt", body)
	Expect(code).To(Equal(http.StatusOK), string(resp))
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	Expect(json.Unmarshal(resp, &r)).To(Succeed())
	return r.PromptID
}

// historyEntry waits for the history entry of id.
func (h *harness) historyEntry(id string) map[string]any {
	GinkgoHelper()
	var entry map[string]any
	Eventually(func() bool {
		_, b := h.get("/history/" + id)
		var m map[string]map[string]any
		Expect(json.Unmarshal(b, &m)).To(Succeed())
		entry = m[id]
		return entry != nil
	}, 60*time.Second, 5*time.Millisecond).Should(BeTrue(), "prompt %s never reached history", id)
	return entry
}

func (h *harness) upload(name string, data []byte, fields map[string]string) (int, map[string]any) {
	GinkgoHelper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		Expect(mw.WriteField(k, v)).To(Succeed())
	}
	fw, err := mw.CreateFormFile("image", name)
	Expect(err).NotTo(HaveOccurred())
	_, _ = fw.Write(data)
	Expect(mw.Close()).To(Succeed())
	code, b := h.do(http.MethodPost, "/upload/image", mw.FormDataContentType(), &buf)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return code, m
}

// wsMsg is one websocket text message.
type wsMsg struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// wsConn is a websocket client that buffers everything it receives.
type wsConn struct {
	id     string
	conn   *websocket.Conn
	msgs   chan wsMsg
	binary chan []byte
}

func (h *harness) connect(clientID string) *wsConn {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := strings.Replace(h.base, "http://", "ws://", 1) + "/ws?clientId=" + clientID
	conn, _, err := websocket.Dial(ctx, url, nil)
	Expect(err).NotTo(HaveOccurred())
	conn.SetReadLimit(64 << 20)
	c := &wsConn{id: clientID, conn: conn, msgs: make(chan wsMsg, 1<<16), binary: make(chan []byte, 1024)}
	go func() {
		defer close(c.msgs)
		for {
			typ, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				select {
				case c.binary <- data:
				default:
				}
				continue
			}
			var m wsMsg
			if json.Unmarshal(data, &m) == nil {
				c.msgs <- m
			}
		}
	}()
	DeferCleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	// The server greets with status and the sid.
	var first wsMsg
	Eventually(c.msgs, 5*time.Second).Should(Receive(&first))
	Expect(first.Type).To(Equal("status"))
	Expect(first.Data).To(HaveKeyWithValue("sid", clientID))
	return c
}

// until collects messages up to `executing` with node null for promptID.
func (c *wsConn) until(promptID string) []wsMsg {
	GinkgoHelper()
	var got []wsMsg
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				Fail(fmt.Sprintf("websocket closed before prompt %s finished", promptID))
			}
			got = append(got, m)
			if m.Type == "executing" && m.Data["node"] == nil && m.Data["prompt_id"] == promptID {
				return got
			}
		case <-timeout:
			Fail(fmt.Sprintf("prompt %s did not finish; got %d messages", promptID, len(got)))
		}
	}
}

// executedNodes returns the node ids of `executing` messages (did run).
func executedNodes(msgs []wsMsg) []string {
	var ids []string
	for _, m := range msgs {
		if m.Type == "executing" && m.Data["node"] != nil {
			ids = append(ids, m.Data["node"].(string))
		}
	}
	return ids
}

// cachedNodes returns the nodes of the execution_cached message.
func cachedNodes(msgs []wsMsg) []string {
	ids := []string{}
	for _, m := range msgs {
		if m.Type == "execution_cached" {
			for _, n := range m.Data["nodes"].([]any) {
				ids = append(ids, n.(string))
			}
		}
	}
	return ids
}

func types(msgs []wsMsg) []string {
	var t []string
	for _, m := range msgs {
		t = append(t, m.Type)
	}
	return t
}
