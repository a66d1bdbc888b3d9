package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// server is the server under test and a raw client for it: the suite
// checks bytes on the wire, so it does not use harness/client.
type server struct {
	base    string
	run     string // random per suite run: names uploads and client ids
	kind    string // KindRegen or KindComfyUI
	version string // system.comfyui_version
}

func (s *server) do(method, path, ctype string, body io.Reader) (int, http.Header, []byte) {
	GinkgoHelper()
	req, err := http.NewRequest(method, s.base+path, body)
	Expect(err).NotTo(HaveOccurred())
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, resp.Header, b
}

func (s *server) get(path string) (int, []byte) {
	GinkgoHelper()
	code, _, b := s.do(http.MethodGet, path, "", nil)
	return code, b
}

// getJSON GETs path, expects 200 and decodes the body into v.
func (s *server) getJSON(path string, v any) {
	GinkgoHelper()
	code, b := s.get(path)
	Expect(code).To(Equal(http.StatusOK), "GET %s: %s", path, b)
	Expect(json.Unmarshal(b, v)).To(Succeed(), "GET %s: %s", path, b)
}

func (s *server) post(path, body string) (int, []byte) {
	GinkgoHelper()
	code, _, b := s.do(http.MethodPost, path, "application/json", strings.NewReader(body))
	return code, b
}

// submit POSTs {"prompt": prompt, "client_id": clientID, extra...} to /prompt.
func (s *server) submit(prompt, clientID string, extra ...string) (int, []byte) {
	GinkgoHelper()
	body := `{"prompt": ` + prompt
	if clientID != "" {
		body += `, "client_id": "` + clientID + `"`
	}
	for _, e := range extra {
		body += ", " + e
	}
	return s.post("/prompt", body+"}")
}

// queue submits prompt, expects 200 and returns the prompt id.
func (s *server) queue(prompt, clientID string, extra ...string) string {
	GinkgoHelper()
	code, b := s.submit(prompt, clientID, extra...)
	Expect(code).To(Equal(http.StatusOK), string(b))
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	Expect(json.Unmarshal(b, &r)).To(Succeed())
	Expect(r.PromptID).NotTo(BeEmpty())
	return r.PromptID
}

// rejection is a 400 answer of POST /prompt.
type rejection struct {
	Error      reason                `json:"error"`
	NodeErrors map[string]nodeErrors `json:"node_errors"`
}

type reason struct {
	Type      string         `json:"type"`
	Message   string         `json:"message"`
	Details   string         `json:"details"`
	ExtraInfo map[string]any `json:"extra_info"`
}

type nodeErrors struct {
	Errors           []reason `json:"errors"`
	DependentOutputs []string `json:"dependent_outputs"`
	ClassType        string   `json:"class_type"`
}

// reject submits prompt and expects a 400 with ComfyUI's error body.
func (s *server) reject(prompt string) rejection {
	GinkgoHelper()
	code, b := s.submit(prompt, "")
	Expect(code).To(Equal(http.StatusBadRequest), string(b))
	var r rejection
	Expect(json.Unmarshal(b, &r)).To(Succeed(), string(b))
	return r
}

// history waits for the history entry of id and returns it.
func (s *server) history(id string) map[string]any {
	GinkgoHelper()
	var entry map[string]any
	Eventually(func(g Gomega) {
		code, b := s.get("/history/" + id)
		g.Expect(code).To(Equal(http.StatusOK))
		var m map[string]map[string]any
		g.Expect(json.Unmarshal(b, &m)).To(Succeed())
		entry = m[id]
		g.Expect(entry).NotTo(BeNil())
	}, 120*time.Second, 20*time.Millisecond).Should(Succeed(), "prompt %s never reached history", id)
	return entry
}

// outputImages returns the images of output node nodeID in a history entry.
func outputImages(entry map[string]any, nodeID string) []map[string]any {
	GinkgoHelper()
	outs, _ := entry["outputs"].(map[string]any)
	Expect(outs).To(HaveKey(nodeID), "history outputs: %v", entry["outputs"])
	o := outs[nodeID].(map[string]any)
	var imgs []map[string]any
	for _, im := range o["images"].([]any) {
		imgs = append(imgs, im.(map[string]any))
	}
	return imgs
}

// view fetches an image reference ({filename, subfolder, type}) from /view.
func (s *server) view(ref map[string]any, extra string) []byte {
	GinkgoHelper()
	q := url.Values{}
	q.Set("filename", fmt.Sprint(ref["filename"]))
	q.Set("subfolder", fmt.Sprint(ref["subfolder"]))
	q.Set("type", fmt.Sprint(ref["type"]))
	code, b := s.get("/view?" + q.Encode() + extra)
	Expect(code).To(Equal(http.StatusOK), "/view %v: %s", ref, b)
	return b
}

// upload posts data as /upload/image's "image" part named name.
func (s *server) upload(name string, data []byte, fields map[string]string) (int, map[string]any) {
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
	code, _, b := s.do(http.MethodPost, "/upload/image", mw.FormDataContentType(), &buf)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return code, m
}

// input uploads a fresh PNG of img under a name unique to this run and
// returns the name LoadImage takes.
func (s *server) input(tag string, img image.Image) string {
	GinkgoHelper()
	name := fmt.Sprintf("regen-conformance-%s-%s.png", s.run, tag)
	code, m := s.upload(name, encodePNG(img), map[string]string{"overwrite": "true"})
	Expect(code).To(Equal(http.StatusOK), "upload %s: %v", name, m)
	return m["name"].(string)
}

// wsMsg is one websocket text message.
type wsMsg struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// wsConn is a websocket client that buffers what it receives.
type wsConn struct {
	id   string
	msgs chan wsMsg
}

// connect opens /ws for a client id unique to this run and reads the
// greeting.
func (s *server) connect(tag string) (*wsConn, wsMsg) {
	GinkgoHelper()
	id := "regen-conformance-" + s.run + "-" + tag
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.base, "http", "ws", 1)+"/ws?clientId="+id, nil)
	Expect(err).NotTo(HaveOccurred())
	conn.SetReadLimit(64 << 20)
	c := &wsConn{id: id, msgs: make(chan wsMsg, 1<<14)}
	go func() {
		defer close(c.msgs)
		for {
			typ, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var m wsMsg
			if typ == websocket.MessageText && json.Unmarshal(data, &m) == nil {
				c.msgs <- m
			}
		}
	}()
	DeferCleanup(func() { _ = conn.Close(websocket.StatusNormalClosure, "") })
	var first wsMsg
	Eventually(c.msgs, 10*time.Second).Should(Receive(&first))
	return c, first
}

// until collects the messages up to `executing` with node null for promptID.
func (c *wsConn) until(promptID string) []wsMsg {
	GinkgoHelper()
	var got []wsMsg
	timeout := time.After(120 * time.Second)
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

// forPrompt keeps the messages about promptID (status frames have none).
func forPrompt(msgs []wsMsg, promptID string) []wsMsg {
	var out []wsMsg
	for _, m := range msgs {
		if m.Data["prompt_id"] == promptID {
			out = append(out, m)
		}
	}
	return out
}

// trace renders messages as "type" or "type:node[:state]" for comparison.
func trace(msgs []wsMsg) []string {
	var out []string
	for _, m := range msgs {
		switch m.Type {
		case "executing", "executed":
			out = append(out, fmt.Sprintf("%s:%v", m.Type, m.Data["node"]))
		case "progress_state":
			// The state of the node whose state changed is not named; the
			// trace lists every node's state in node-id order.
			nodes, _ := m.Data["nodes"].(map[string]any)
			var parts []string
			for _, id := range sortedKeys(nodes) {
				st := nodes[id].(map[string]any)
				parts = append(parts, fmt.Sprintf("%s=%v", id, st["state"]))
			}
			out = append(out, "progress_state:"+strings.Join(parts, ","))
		case "progress":
			// per-step; not part of the traces compared
		default:
			out = append(out, m.Type)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// Pixels.

func encodePNG(img image.Image) []byte {
	GinkgoHelper()
	var b bytes.Buffer
	Expect(png.Encode(&b, img)).To(Succeed())
	return b.Bytes()
}

func decodePNG(b []byte) image.Image {
	GinkgoHelper()
	img, err := png.Decode(bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	return img
}

// pattern is a w×h opaque RGB image whose every channel value differs.
func pattern(w, h int, seed uint8) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	v := seed
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{v, v + 85, v + 170, 255})
			v += 37
		}
	}
	return img
}

// f32 is ComfyUI's pixel path for one 8-bit value through float32:
// LoadImage divides by 255, op is the node's arithmetic, SaveImage
// multiplies by 255, clips and truncates (np.clip(255.*i, 0, 255).astype(uint8)).
func f32(v uint8, op func(float32) float32) uint8 {
	x := op(float32(v) / 255)
	y := x * 255
	y = float32(y)
	switch {
	case y <= 0:
		return 0
	case y >= 255:
		return 255
	}
	return uint8(y)
}

func nrgba(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
