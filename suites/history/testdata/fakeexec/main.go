// fakeexec is a tiny ComfyUI-compatible executor for suites/history: the
// spec writes it into a scratch repository and changes it commit by commit.
// It speaks what regen's client uses (/system_stats, /object_info, /free,
// /prompt, /history/{id}, /view, and /ws with a hand-rolled handshake),
// knows two node classes (FakeSampler, SaveImage), and draws a 32×32 image
// from the seed and the sampler's gain. Standard library only, so that it
// builds in a second and offline.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// The samplers' gains: the "sampler constants" the commits change.
const (
	eulerGain = 1.0
	heunGain  = 0.5
)

// version is the executor's version string.
const version = "fake-1"

type server struct {
	mu      sync.Mutex
	n       int
	history map[string]json.RawMessage
	images  map[string][]byte
	sockets map[string]net.Conn
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8188", "address")
	flag.String("output", "", "ignored")
	flag.String("input", "", "ignored")
	flag.String("temp", "", "ignored")
	flag.String("models", "", "ignored")
	flag.Parse()
	s := &server{history: map[string]json.RawMessage{}, images: map[string][]byte{}, sockets: map[string]net.Conn{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system_stats", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"system":{"os":"posix","comfyui_version":%q},"devices":[{"name":"cpu","type":"cpu"}]}`, version)
	})
	mux.HandleFunc("GET /object_info", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(objectInfo))
	})
	mux.HandleFunc("POST /free", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /ws", s.ws)
	mux.HandleFunc("POST /prompt", s.prompt)
	mux.HandleFunc("GET /history/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h, ok := s.history[r.PathValue("id")]
		s.mu.Unlock()
		if !ok {
			w.Write([]byte("{}"))
			return
		}
		fmt.Fprintf(w, `{%q:%s}`, r.PathValue("id"), h)
	})
	mux.HandleFunc("GET /view", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		b, ok := s.images[r.URL.Query().Get("filename")]
		s.mu.Unlock()
		if !ok {
			http.Error(w, "404: Not Found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(b)
	})
	srv := &http.Server{Addr: *listen, Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

const objectInfo = `{
 "FakeSampler": {"name": "FakeSampler", "display_name": "Fake Sampler", "category": "sampling", "description": "",
  "input": {"required": {"seed": ["INT", {"default": 0, "min": 0, "max": 18446744073709551615, "control_after_generate": true}],
   "sampler_name": [["euler", "heun"], {}]}},
  "input_order": {"required": ["seed", "sampler_name"]},
  "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"], "output_node": false, "python_module": "nodes"},
 "SaveImage": {"name": "SaveImage", "display_name": "Save Image", "category": "image", "description": "",
  "input": {"required": {"images": ["IMAGE", {}], "filename_prefix": ["STRING", {"default": "ComfyUI"}]},
   "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}},
  "input_order": {"required": ["images", "filename_prefix"], "hidden": ["prompt", "extra_pnginfo"]},
  "output": [], "output_is_list": [], "output_name": [], "output_node": true, "python_module": "nodes"}
}`

type node struct {
	ClassType string         `json:"class_type"`
	Inputs    map[string]any `json:"inputs"`
}

func (s *server) prompt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prompt   map[string]node `json:"prompt"`
		ClientID string          `json:"client_id"`
		PromptID string          `json:"prompt_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.n++
	n := s.n
	id := body.PromptID
	if id == "" {
		id = fmt.Sprintf("p%d", n)
	}
	s.mu.Unlock()
	fmt.Fprintf(w, `{"prompt_id":%q,"number":%d,"node_errors":{}}`, id, n)
	go s.execute(id, n, body.ClientID, body.Prompt)
}

func (s *server) execute(id string, n int, clientID string, prompt map[string]node) {
	outputs := map[string]any{}
	for nid, nd := range prompt {
		if nd.ClassType != "SaveImage" {
			continue
		}
		link, _ := nd.Inputs["images"].([]any)
		if len(link) != 2 {
			continue
		}
		src := prompt[fmt.Sprint(link[0])]
		seed, _ := src.Inputs["seed"].(float64)
		sampler, _ := src.Inputs["sampler_name"].(string)
		name := fmt.Sprintf("%v_%05d_.png", nd.Inputs["filename_prefix"], n)
		s.mu.Lock()
		s.images[name] = draw(uint64(seed), sampler)
		s.mu.Unlock()
		outputs[nid] = map[string]any{"images": []any{map[string]any{"filename": name, "subfolder": "", "type": "output"}}}
	}
	h, _ := json.Marshal(map[string]any{"prompt": []any{n, id, prompt, map[string]any{}, []string{}}, "outputs": outputs,
		"status": map[string]any{"status_str": "success", "completed": true, "messages": []any{}}})
	s.mu.Lock()
	s.history[id] = h
	s.mu.Unlock()
	s.send(clientID, map[string]any{"type": "execution_start", "data": map[string]any{"prompt_id": id}})
	s.send(clientID, map[string]any{"type": "execution_success", "data": map[string]any{"prompt_id": id}})
	s.send(clientID, map[string]any{"type": "executing", "data": map[string]any{"node": nil, "prompt_id": id}})
}

// draw renders the case's image: a gradient whose colour depends on the
// seed and the sampler's gain.
func draw(seed uint64, sampler string) []byte {
	gain := eulerGain
	if sampler == "heun" {
		gain = heunGain
	}
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			v := float64((uint64(x*7+y*3)+seed*37)%256) * gain
			if v > 255 {
				v = 255
			}
			img.Set(x, y, color.NRGBA{uint8(v), uint8(255 - x*8), uint8(y * 8), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// ws accepts a websocket (RFC 6455 handshake by hand) and sends a status
// frame; frames from the client are read and dropped until it closes.
func (s *server) ws(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	hj, ok := w.(http.Hijacker)
	if key == "" || !ok {
		http.Error(w, "websocket only", http.StatusBadRequest)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
	rw.Flush()
	id := r.URL.Query().Get("clientId")
	s.mu.Lock()
	s.sockets[id] = conn
	s.mu.Unlock()
	s.send(id, map[string]any{"type": "status", "data": map[string]any{"status": map[string]any{"exec_info": map[string]any{"queue_remaining": 0}}, "sid": id}})
	go func() {
		br := bufio.NewReader(conn)
		for {
			if _, err := br.ReadByte(); err != nil {
				s.mu.Lock()
				delete(s.sockets, id)
				s.mu.Unlock()
				conn.Close()
				return
			}
		}
	}()
}

func (s *server) send(clientID string, msg any) {
	b, _ := json.Marshal(msg)
	var frame bytes.Buffer
	frame.WriteByte(0x81) // FIN, text
	switch {
	case len(b) < 126:
		frame.WriteByte(byte(len(b)))
	default:
		frame.WriteByte(126)
		binary.Write(&frame, binary.BigEndian, uint16(len(b)))
	}
	frame.Write(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sockets[clientID]; ok {
		c.Write(frame.Bytes())
	}
}
