package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/suites/internal/comfyclient"
)

// server is the server under test and the raw client for it (the suite
// checks bytes on the wire, so it does not use harness/client).
type server struct {
	*comfyclient.Server
	run     string // random per suite run: names uploads and client ids
	kind    string // KindRegen or KindComfyUI
	version string // system.comfyui_version
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
	code, b := s.Submit(prompt, "")
	Expect(code).To(Equal(http.StatusBadRequest), string(b))
	var r rejection
	Expect(json.Unmarshal(b, &r)).To(Succeed(), string(b))
	return r
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

// input uploads a fresh PNG of img under a name unique to this run and
// returns the name LoadImage takes.
func (s *server) input(tag string, img image.Image) string {
	GinkgoHelper()
	name := fmt.Sprintf("regen-conformance-%s-%s.png", s.run, tag)
	code, m := s.Upload(name, encodePNG(img), map[string]string{"overwrite": "true"})
	Expect(code).To(Equal(http.StatusOK), "upload %s: %v", name, m)
	return m["name"].(string)
}

// connect opens /ws for a client id unique to this run and returns it with
// the server's greeting.
func (s *server) connect(tag string) (*comfyclient.WS, comfyclient.Msg) {
	GinkgoHelper()
	return s.Dial("regen-conformance-" + s.run + "-" + tag)
}

// trace renders messages as "type" or "type:node[:state]" for comparison.
func trace(msgs []comfyclient.Msg) []string {
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
