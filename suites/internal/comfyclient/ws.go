package comfyclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// Msg is one websocket text message.
type Msg struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// WS is a websocket client of /ws that buffers what it receives: text
// messages in Msgs (closed when the connection ends), binary frames in
// Binary (dropped once 1024 are unread).
type WS struct {
	ID     string
	Conn   *websocket.Conn
	Msgs   chan Msg
	Binary chan []byte
	wait   time.Duration
}

// Dial opens /ws?clientId=clientID, closes it when the spec ends, and
// returns it with the server's first message (its greeting).
func (s *Server) Dial(clientID string) (*WS, Msg) {
	ginkgo.GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.Base, "http", "ws", 1)+"/ws?clientId="+clientID, nil)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	conn.SetReadLimit(64 << 20)
	c := &WS{ID: clientID, Conn: conn, Msgs: make(chan Msg, 1<<16), Binary: make(chan []byte, 1024), wait: s.wait()}
	go func() {
		defer close(c.Msgs)
		for {
			typ, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				select {
				case c.Binary <- data:
				default:
				}
				continue
			}
			var m Msg
			if json.Unmarshal(data, &m) == nil {
				c.Msgs <- m
			}
		}
	}()
	ginkgo.DeferCleanup(func() { _ = conn.Close(websocket.StatusNormalClosure, "") })
	var first Msg
	gomega.Eventually(c.Msgs, 10*time.Second).Should(gomega.Receive(&first))
	return c, first
}

// Until collects the messages up to `executing` with node null for
// promptID (ComfyUI's "prompt done").
func (c *WS) Until(promptID string) []Msg {
	ginkgo.GinkgoHelper()
	var got []Msg
	timeout := time.After(c.wait)
	for {
		select {
		case m, ok := <-c.Msgs:
			if !ok {
				ginkgo.Fail(fmt.Sprintf("websocket closed before prompt %s finished", promptID))
			}
			got = append(got, m)
			if m.Type == "executing" && m.Data["node"] == nil && m.Data["prompt_id"] == promptID {
				return got
			}
		case <-timeout:
			ginkgo.Fail(fmt.Sprintf("prompt %s did not finish; got %d messages", promptID, len(got)))
		}
	}
}

// ForPrompt keeps the messages about promptID (status frames have none).
func ForPrompt(msgs []Msg, promptID string) []Msg {
	var out []Msg
	for _, m := range msgs {
		if m.Data["prompt_id"] == promptID {
			out = append(out, m)
		}
	}
	return out
}

// Types returns the messages' types.
func Types(msgs []Msg) []string {
	var t []string
	for _, m := range msgs {
		t = append(t, m.Type)
	}
	return t
}

// ExecutedNodes returns the node ids of the `executing` messages (the
// nodes that ran).
func ExecutedNodes(msgs []Msg) []string {
	var ids []string
	for _, m := range msgs {
		if m.Type == "executing" && m.Data["node"] != nil {
			ids = append(ids, m.Data["node"].(string))
		}
	}
	return ids
}

// CachedNodes returns the nodes of the execution_cached message.
func CachedNodes(msgs []Msg) []string {
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
