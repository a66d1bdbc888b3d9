package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/regen-dev/regen/executor/node"
)

// clientBuffer is how many frames may wait for one websocket client; a
// client that falls further behind is disconnected so that it can never
// block the worker.
const clientBuffer = 4096

// wsFrame is one outgoing websocket frame.
type wsFrame struct {
	binary bool
	data   []byte
}

type wsClient struct {
	id       string
	out      chan wsFrame
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	metadata bool // negotiated supports_preview_metadata
}

func (c *wsClient) close() { c.once.Do(func() { close(c.done) }) }

// hub routes events to websocket clients by client id.
type hub struct {
	mu      sync.Mutex
	clients map[string]*wsClient
	log     *slog.Logger
}

func newHub(log *slog.Logger) *hub {
	return &hub{clients: map[string]*wsClient{}, log: log}
}

// event encodes {"type": ..., "data": ...}.
func event(typ string, data any) []byte {
	b, err := json.Marshal(ordered{{"type", typ}, {"data", data}})
	if err != nil {
		b, _ = json.Marshal(map[string]any{"type": typ, "data": nil})
	}
	return b
}

// hasClients reports whether any client is connected (to skip building
// messages nobody will read).
func (h *hub) hasClients() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients) > 0
}

// send queues a text event for client id (nothing when id is empty or not
// connected).
func (h *hub) send(id, typ string, data any) {
	if id == "" {
		return
	}
	h.mu.Lock()
	c := h.clients[id]
	h.mu.Unlock()
	if c == nil {
		return
	}
	h.push(c, wsFrame{data: event(typ, data)})
}

// sendOrBroadcast sends to client id, or to everybody when id is empty
// (ComfyUI's send_sync with sid None).
func (h *hub) sendOrBroadcast(id, typ string, data any) {
	if id != "" {
		h.send(id, typ, data)
		return
	}
	h.broadcast(typ, data)
}

func (h *hub) broadcast(typ string, data any) {
	h.mu.Lock()
	cs := make([]*wsClient, 0, len(h.clients))
	for _, c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	if len(cs) == 0 {
		return
	}
	f := wsFrame{data: event(typ, data)}
	for _, c := range cs {
		h.push(c, f)
	}
}

// sendBinary sends a binary frame (4-byte BE type, payload) to client id, or
// to everybody when id is empty. A preview (type 1) goes to a client that
// negotiated supports_preview_metadata as type 4 with metadata.
func (h *hub) sendBinary(id string, typ uint32, payload []byte, meta func(imageType string) []byte) {
	h.mu.Lock()
	var cs []*wsClient
	if id == "" {
		for _, c := range h.clients {
			cs = append(cs, c)
		}
	} else if c := h.clients[id]; c != nil {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		md := c.metadata
		c.mu.Unlock()
		if md && typ == node.BinaryPreviewImage && len(payload) >= 4 && meta != nil {
			imageType := "image/jpeg"
			if binary.BigEndian.Uint32(payload[:4]) == node.FormatPNG {
				imageType = "image/png"
			}
			m := meta(imageType)
			buf := make([]byte, 8, 8+len(m)+len(payload)-4)
			binary.BigEndian.PutUint32(buf[0:4], 4)
			binary.BigEndian.PutUint32(buf[4:8], uint32(len(m)))
			buf = append(buf, m...)
			buf = append(buf, payload[4:]...)
			h.push(c, wsFrame{binary: true, data: buf})
			continue
		}
		buf := make([]byte, 4, 4+len(payload))
		binary.BigEndian.PutUint32(buf, typ)
		buf = append(buf, payload...)
		h.push(c, wsFrame{binary: true, data: buf})
	}
}

// push never blocks: a client whose buffer is full is dropped.
func (h *hub) push(c *wsClient, f wsFrame) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.out <- f:
	default:
		h.log.Warn("websocket client too slow; disconnecting", "client_id", c.id)
		h.remove(c)
	}
}

func (h *hub) add(c *wsClient) {
	h.mu.Lock()
	old := h.clients[c.id]
	h.clients[c.id] = c
	h.mu.Unlock()
	if old != nil {
		old.close()
	}
}

func (h *hub) remove(c *wsClient) {
	h.mu.Lock()
	if h.clients[c.id] == c {
		delete(h.clients, c.id)
	}
	h.mu.Unlock()
	c.close()
}

func newClientID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// handleWS serves /ws?clientId=.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.log.Debug("websocket accept", "err", err)
		return
	}
	conn.SetReadLimit(1 << 20)
	id := r.URL.Query().Get("clientId")
	if id == "" {
		id = newClientID()
	}
	c := &wsClient{id: id, out: make(chan wsFrame, clientBuffer), done: make(chan struct{})}
	s.hub.add(c)
	defer s.hub.remove(c)
	s.log.Debug("websocket connected", "client_id", id)

	h := s.hub
	h.push(c, wsFrame{data: event("status", ordered{{"status", s.eng.Status()}, {"sid", id}})})
	if node, pid, ok := s.eng.Executing(id); ok {
		h.push(c, wsFrame{data: event("executing", ordered{{"node", node}, {"display_node", node}, {"prompt_id", pid}})})
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go s.readWS(ctx, conn, c, cancel)
	for {
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusGoingAway, "")
			return
		case <-c.done:
			conn.Close(websocket.StatusPolicyViolation, "replaced or too slow")
			return
		case <-s.shutdown:
			conn.Close(websocket.StatusGoingAway, "server shutting down")
			return
		case f := <-c.out:
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			typ := websocket.MessageText
			if f.binary {
				typ = websocket.MessageBinary
			}
			err := conn.Write(wctx, typ, f.data)
			wcancel()
			if err != nil {
				s.log.Debug("websocket write", "client_id", id, "err", err)
				return
			}
		}
	}
}

// readWS handles client messages: the first may negotiate feature flags.
func (s *Server) readWS(ctx context.Context, conn *websocket.Conn, c *wsClient, cancel func()) {
	defer cancel()
	first := true
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText || !first {
			continue
		}
		first = false
		var msg struct {
			Type string `json:"type"`
			Data struct {
				SupportsPreviewMetadata bool `json:"supports_preview_metadata"`
			} `json:"data"`
		}
		if json.Unmarshal(data, &msg) != nil || msg.Type != "feature_flags" {
			continue
		}
		c.mu.Lock()
		c.metadata = msg.Data.SupportsPreviewMetadata
		c.mu.Unlock()
		s.hub.push(c, wsFrame{data: event("feature_flags", s.featureFlags())})
	}
}
