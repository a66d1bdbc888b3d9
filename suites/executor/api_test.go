package executor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/suites/internal/comfyclient"
)

const slowPrompt = `{"1": {"class_type": "TestSlow", "inputs": {"steps": 400, "ms": 5}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}`

func constPrompt(v int) string {
	return fmt.Sprintf(`{"1": {"class_type": "TestConst", "inputs": {"value": %d}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}`, v)
}

var _ = Describe("Validation", func() {
	var h *harness
	BeforeEach(func() { h = startExecutor() })

	It("rejects with 400 when no output survives, naming the failing node", func() {
		code, b := h.Post("/prompt", `{"prompt": {"1": {"class_type": "TestConst", "inputs": {"value": 5000}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}}`)
		Expect(code).To(Equal(http.StatusBadRequest))
		var r struct {
			Error      map[string]any `json:"error"`
			NodeErrors map[string]struct {
				Errors []struct {
					Type string `json:"type"`
				} `json:"errors"`
				DependentOutputs []string `json:"dependent_outputs"`
				ClassType        string   `json:"class_type"`
			} `json:"node_errors"`
		}
		Expect(json.Unmarshal(b, &r)).To(Succeed())
		Expect(r.Error).To(HaveKeyWithValue("type", "prompt_outputs_failed_validation"))
		Expect(r.Error).To(HaveKeyWithValue("extra_info", BeEmpty()))
		Expect(r.NodeErrors).To(HaveLen(1))
		Expect(r.NodeErrors["1"].Errors[0].Type).To(Equal("value_bigger_than_max"))
		Expect(r.NodeErrors["1"].DependentOutputs).To(Equal([]string{"2"}))
		Expect(r.NodeErrors["1"].ClassType).To(Equal("TestConst"))
	})

	It("words a missing LoadImage file as ComfyUI does, naming the input and not the server's folder", func() {
		code, b := h.Post("/prompt", `{"prompt": {"1": {"class_type": "LoadImage", "inputs": {"image": "nope.png"}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}}`)
		Expect(code).To(Equal(http.StatusBadRequest))
		var r struct {
			NodeErrors map[string]struct {
				Errors []json.RawMessage `json:"errors"`
			} `json:"node_errors"`
		}
		Expect(json.Unmarshal(b, &r)).To(Succeed())
		Expect(r.NodeErrors["1"].Errors).To(HaveLen(1))
		Expect(r.NodeErrors["1"].Errors[0]).To(MatchJSON(`{"type": "custom_validation_failed", "message": "Custom validation failed for node",
			"details": "image - Invalid image file: nope.png", "extra_info": {"input_name": "image"}}`))
		Expect(string(b)).NotTo(ContainSubstring(h.dirs.Input))
	})

	It("accepts with 200 and node_errors when some output survives, and runs only that output", func() {
		code, b := h.Post("/prompt", `{"prompt": {"1": {"class_type": "TestConst", "inputs": {"value": -3}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}},
			"3": {"class_type": "TestIntOut", "inputs": {"value": 42}}}}`)
		Expect(code).To(Equal(http.StatusOK))
		var r struct {
			PromptID   string                    `json:"prompt_id"`
			Number     float64                   `json:"number"`
			NodeErrors map[string]map[string]any `json:"node_errors"`
		}
		Expect(json.Unmarshal(b, &r)).To(Succeed())
		Expect(r.NodeErrors).To(HaveKey("1"))
		entry := h.History(r.PromptID)
		Expect(entry["outputs"]).To(HaveKey("3"))
		Expect(entry["outputs"]).NotTo(HaveKey("2"))
	})

	DescribeTable("top-level errors",
		func(body string, code int, errType string) {
			got, b := h.Post("/prompt", body)
			Expect(got).To(Equal(code), string(b))
			var r struct {
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
				NodeErrors map[string]any `json:"node_errors"`
			}
			Expect(json.Unmarshal(b, &r)).To(Succeed())
			Expect(r.Error.Type).To(Equal(errType))
			Expect(r.Error.Message).NotTo(BeEmpty())
			Expect(r.NodeErrors).NotTo(BeNil())
		},
		Entry("malformed JSON", `{"prompt": {`, 400, "invalid_json"),
		Entry("no prompt key", `{"client_id": "x"}`, 400, "no_prompt"),
		Entry("unknown class (0.33.0)", `{"prompt": {"1": {"class_type": "NoSuchNode", "inputs": {}}}}`, 400, "missing_node_type"),
		Entry("no output node", `{"prompt": {"1": {"class_type": "TestConst", "inputs": {"value": 1}}}}`, 400, "prompt_no_outputs"),
		Entry("static cycle", `{"prompt": {"1": {"class_type": "TestAddInts", "inputs": {"a": ["2", 0]}}, "2": {"class_type": "TestAddInts", "inputs": {"a": ["1", 0]}},
			"3": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}}`, 400, "prompt_outputs_failed_validation"),
		Entry("link type mismatch", `{"prompt": {"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestInvert", "inputs": {"image": ["1", 0]}},
			"3": {"class_type": "TestSavePNG", "inputs": {"images": ["2", 0], "filename_prefix": "x"}}}}`, 400, "prompt_outputs_failed_validation"),
	)

	It("executes only partial_execution_targets", func() {
		id := h.Queue(`{"1": {"class_type": "TestIntOut", "inputs": {"value": 1}}, "2": {"class_type": "TestIntOut", "inputs": {"value": 2}}}`, "",
			`"partial_execution_targets": ["2"]`)
		entry := h.History(id)
		Expect(entry["outputs"]).To(HaveKey("2"))
		Expect(entry["outputs"]).NotTo(HaveKey("1"))
	})
})

var _ = Describe("Queue and history", func() {
	var h *harness
	BeforeEach(func() { h = startExecutor() })

	It("orders by number, honours front, and deletes pending items", func() {
		ws := h.connect("q")
		blocker := h.Queue(slowPrompt, "q")
		Eventually(func() int {
			_, b := h.Get("/queue")
			var q struct {
				Running []any `json:"queue_running"`
			}
			Expect(json.Unmarshal(b, &q)).To(Succeed())
			return len(q.Running)
		}, 5*time.Second, 5*time.Millisecond).Should(Equal(1))
		a := h.Queue(constPrompt(1), "q")
		b := h.Queue(constPrompt(2), "q")
		c := h.Queue(constPrompt(3), "q", `"front": true`)
		d := h.Queue(constPrompt(4), "q")

		_, body := h.Get("/queue")
		var q struct {
			Running [][]json.RawMessage `json:"queue_running"`
			Pending [][]json.RawMessage `json:"queue_pending"`
		}
		Expect(json.Unmarshal(body, &q)).To(Succeed())
		Expect(q.Running).To(HaveLen(1))
		Expect(q.Running[0]).To(HaveLen(5))
		Expect(string(q.Running[0][1])).To(Equal(`"` + blocker + `"`))
		Expect(q.Pending).To(HaveLen(4))
		_, pr := h.Get("/prompt")
		Expect(string(pr)).To(MatchJSON(`{"exec_info": {"queue_remaining": 5}}`))

		code, _ := h.Post("/queue", `{"delete": ["`+d+`"]}`)
		Expect(code).To(Equal(http.StatusOK))
		code, _ = h.Post("/interrupt", `{}`)
		Expect(code).To(Equal(http.StatusOK))

		var order []string
		for _, id := range []string{blocker, c, a, b} {
			msgs := ws.Until(id)
			for _, m := range msgs {
				if m.Type == "execution_start" {
					order = append(order, m.Data["prompt_id"].(string))
				}
			}
		}
		Expect(order).To(Equal([]string{blocker, c, a, b}), "front goes first, then by number")
		_, hb := h.Get("/history/" + d)
		Expect(string(hb)).To(Equal("{}"), "a deleted pending prompt never runs")
	})

	It("pages history with max_items and offset, and deletes and clears it", func() {
		var ids []string
		for i := 0; i < 5; i++ {
			id := h.Queue(constPrompt(i), "")
			h.History(id)
			ids = append(ids, id)
		}
		keys := func(path string) []string {
			_, b := h.Get(path)
			dec := json.NewDecoder(bytes.NewReader(b))
			var out []string
			tok, err := dec.Token()
			Expect(err).NotTo(HaveOccurred())
			Expect(tok).To(Equal(json.Delim('{')))
			for dec.More() {
				k, err := dec.Token()
				Expect(err).NotTo(HaveOccurred())
				out = append(out, k.(string))
				var skip json.RawMessage
				Expect(dec.Decode(&skip)).To(Succeed())
			}
			return out
		}
		Expect(keys("/history")).To(Equal(ids))
		Expect(keys("/history?max_items=2")).To(Equal(ids[3:]))
		Expect(keys("/history?max_items=2&offset=1")).To(Equal(ids[1:3]))
		Expect(keys("/api/history?offset=3")).To(Equal(ids[3:]))

		code, _ := h.Post("/history", `{"delete": ["`+ids[0]+`"]}`)
		Expect(code).To(Equal(http.StatusOK))
		Expect(keys("/history")).To(Equal(ids[1:]))
		code, _ = h.Post("/history", `{"clear": true}`)
		Expect(code).To(Equal(http.StatusOK))
		Expect(keys("/history")).To(BeEmpty())
	})
})

var _ = Describe("Files", func() {
	var h *harness
	BeforeEach(func() { h = startExecutor() })

	It("refuses /view traversal with ComfyUI's status codes", func() {
		Expect(os.WriteFile(filepath.Join(h.dirs.Output, "ok.png"), []byte("png"), 0o644)).To(Succeed())
		Expect(os.MkdirAll(filepath.Join(h.dirs.Output, "sub"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(h.dirs.Output, "sub", "in.png"), []byte("sub"), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(h.dirs.Input, "secret.txt"), []byte("s"), 0o644)).To(Succeed())
		for path, want := range map[string]int{
			"/view?filename=ok.png":                                  http.StatusOK,
			"/api/view?filename=ok.png&type=output":                  http.StatusOK,
			"/view?filename=in.png&subfolder=sub":                    http.StatusOK,
			"/view?filename=ok.png%20[output]&type=input":            http.StatusOK,
			"/view?filename=../input/secret.txt":                     http.StatusBadRequest,
			"/view?filename=/etc/passwd":                             http.StatusBadRequest,
			"/view?filename=secret.txt&subfolder=../input":           http.StatusForbidden,
			"/view?filename=passwd&subfolder=/etc":                   http.StatusForbidden,
			"/view?filename=missing.png":                             http.StatusNotFound,
			"/view":                                                  http.StatusNotFound,
			"/view?filename=ok.png&type=bogus":                       http.StatusBadRequest,
			"/view?filename=secret.txt&type=input":                   http.StatusOK,
			"/view?filename=ok.png&subfolder=sub/../../../../../etc": http.StatusForbidden,
		} {
			code, _ := h.Get(path)
			Expect(code).To(Equal(want), path)
		}
	})

	It("re-encodes /view for channel and preview", func() {
		ws := h.connect("view")
		id := h.Queue(imageGraph("", "WHITE", 8), "view")
		ws.Until(id)
		entry := h.History(id)
		img := entry["outputs"].(map[string]any)["3"].(map[string]any)["images"].([]any)[0].(map[string]any)
		name := img["filename"].(string)
		for q, ctype := range map[string]string{"": "image/png", "&channel=rgb": "image/png", "&channel=a": "image/png", "&preview=jpeg;50": "image/jpeg", "&preview=webp;90": "image/jpeg"} {
			resp, err := http.Get(h.Base + "/view?filename=" + name + "&type=output" + q)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusOK), q)
			Expect(resp.Header.Get("Content-Type")).To(Equal(ctype), q)
		}
	})

	It("answers /view?channel=a with an RGBA PNG, alpha 255 for an image without alpha, as ComfyUI 0.33.0", func() {
		opaque := image.NewRGBA(image.Rect(0, 0, 3, 2))
		translucent := image.NewNRGBA(image.Rect(0, 0, 3, 2))
		for i := range opaque.Pix {
			opaque.Pix[i] = 200
			if i%4 == 3 {
				opaque.Pix[i] = 255
			}
			translucent.Pix[i] = 100
		}
		for name, img := range map[string]image.Image{"rgb.png": opaque, "rgba.png": translucent} {
			var buf bytes.Buffer
			Expect(png.Encode(&buf, img)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(h.dirs.Output, name), buf.Bytes(), 0o644)).To(Succeed())
		}
		for q, want := range map[string]struct {
			colourType byte // IHDR colour type: 2 RGB, 6 RGBA
			px         color.NRGBA
		}{
			"rgb.png&channel=a":   {6, color.NRGBA{A: 255}},
			"rgba.png&channel=a":  {6, color.NRGBA{A: 100}},
			"rgb.png&channel=rgb": {2, color.NRGBA{R: 200, G: 200, B: 200, A: 255}},
		} {
			code, b := h.Get("/view?filename=" + q)
			Expect(code).To(Equal(http.StatusOK), q)
			Expect(len(b)).To(BeNumerically(">", 26), q)
			Expect(b[25]).To(Equal(want.colourType), q)
			img, err := png.Decode(bytes.NewReader(b))
			Expect(err).NotTo(HaveOccurred(), q)
			Expect(img.Bounds().Size()).To(Equal(image.Pt(3, 2)), q)
			for y := range 2 {
				for x := range 3 {
					Expect(color.NRGBAModel.Convert(img.At(x, y))).To(Equal(want.px), q)
				}
			}
		}
	})

	It("refuses an upload whose filename leaves the folder with 400, as ComfyUI", func() {
		for _, name := range []string{"../escape.png", "../../escape.png", "sub/../../escape.png", `..\escape.png`} {
			code, _ := h.Upload(name, []byte("x"), nil)
			Expect(code).To(Equal(http.StatusBadRequest), name)
		}
		Expect(filepath.Join(h.dirs.Input, "escape.png")).NotTo(BeAnExistingFile())
		Expect(filepath.Join(filepath.Dir(h.dirs.Input), "escape.png")).NotTo(BeAnExistingFile())
		code, r := h.Upload("plain.png", []byte("x"), nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(r["name"]).To(Equal("plain.png"))
	})

	It("renames colliding uploads unless the content is the same or overwrite is set", func() {
		code, r := h.Upload("a.png", []byte("one"), nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(r).To(Equal(map[string]any{"name": "a.png", "subfolder": "", "type": "input"}))
		_, r = h.Upload("a.png", []byte("one"), nil)
		Expect(r["name"]).To(Equal("a.png"), "same content keeps the name")
		_, r = h.Upload("a.png", []byte("two"), nil)
		Expect(r["name"]).To(Equal("a (1).png"))
		_, r = h.Upload("a.png", []byte("three"), nil)
		Expect(r["name"]).To(Equal("a (2).png"))
		_, r = h.Upload("a.png", []byte("four"), map[string]string{"overwrite": "true"})
		Expect(r["name"]).To(Equal("a.png"))
		Expect(os.ReadFile(filepath.Join(h.dirs.Input, "a.png"))).To(Equal([]byte("four")))
		_, r = h.Upload("b.png", []byte("x"), map[string]string{"subfolder": "masks", "type": "temp"})
		Expect(r).To(Equal(map[string]any{"name": "b.png", "subfolder": "masks", "type": "temp"}))
		Expect(filepath.Join(h.dirs.Temp, "masks", "b.png")).To(BeARegularFile())

		code, _ = h.Upload("c.png", []byte("x"), map[string]string{"subfolder": "../../escape"})
		Expect(code).To(Equal(http.StatusBadRequest))
		code, _ = h.Upload("big.png", bytes.Repeat([]byte("x"), 2<<20), nil)
		Expect(code).To(Equal(http.StatusRequestEntityTooLarge))

		// The uploaded names are the COMBO of an input-folder node.
		_, b := h.Get("/object_info/TestLoadName")
		var info map[string]struct {
			Input struct {
				Required map[string][]json.RawMessage `json:"required"`
			} `json:"input"`
		}
		Expect(json.Unmarshal(b, &info)).To(Succeed())
		Expect(string(info["TestLoadName"].Input.Required["image"][0])).To(Equal(`["a (1).png","a (2).png","a.png"]`))
	})

	It("serves safetensors metadata", func() {
		dir := filepath.Join(h.dirs.Models, "checkpoints")
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		hdr := []byte(`{"__metadata__":{"format":"pt","regen":"tiny"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
		var f bytes.Buffer
		n := uint64(len(hdr))
		for i := 0; i < 8; i++ {
			f.WriteByte(byte(n >> (8 * i)))
		}
		f.Write(hdr)
		f.Write([]byte{0, 0, 0, 0})
		Expect(os.WriteFile(filepath.Join(dir, "tiny.safetensors"), f.Bytes(), 0o644)).To(Succeed())
		code, b := h.Get("/view_metadata/checkpoints?filename=tiny.safetensors")
		Expect(code).To(Equal(http.StatusOK))
		Expect(b).To(MatchJSON(`{"format":"pt","regen":"tiny"}`))
		code, _ = h.Get("/view_metadata/checkpoints?filename=missing.safetensors")
		Expect(code).To(Equal(http.StatusNotFound))
		_, b = h.Get("/models/checkpoints")
		Expect(b).To(MatchJSON(`["tiny.safetensors"]`))
	})
})

var _ = Describe("Info endpoints", func() {
	var h *harness
	BeforeEach(func() { h = startExecutor() })

	It("describes node classes in /object_info's shape", func() {
		code, b := h.Get("/api/object_info")
		Expect(code).To(Equal(http.StatusOK))
		var all map[string]map[string]any
		Expect(json.Unmarshal(b, &all)).To(Succeed())
		Expect(all).To(HaveKey("StubImage"))
		_, b = h.Get("/object_info/StubImage")
		Expect(b).To(MatchJSON(`{"StubImage": {
			"input": {"required": {
				"content": [["WHITE", "BLACK", "NOISE"]],
				"height": ["INT", {"default": 16, "min": 0, "max": 16384}],
				"width": ["INT", {"default": 16, "min": 0, "max": 16384}],
				"batch_size": ["INT", {"default": 1, "min": 0, "max": 16384}]}},
			"input_order": {"required": ["content", "height", "width", "batch_size"]},
			"is_input_list": false,
			"output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"],
			"name": "StubImage", "display_name": "StubImage", "description": "A constant image.",
			"python_module": "nodes", "category": "Testing/Stub Nodes", "output_node": false,
			"has_intermediate_output": false, "search_aliases": []}}`))
		_, b = h.Get("/object_info/TestSavePNG")
		Expect(b).To(ContainSubstring(`"hidden":{"prompt":"PROMPT","extra_pnginfo":"EXTRA_PNGINFO"}`))
		_, b = h.Get("/object_info/Nope")
		Expect(string(b)).To(Equal("{}"))
	})

	It("reports system stats, features and empty lists", func() {
		_, b := h.Get("/system_stats")
		var st struct {
			System  map[string]any   `json:"system"`
			Devices []map[string]any `json:"devices"`
			Regen   map[string]any   `json:"regen"`
		}
		Expect(json.Unmarshal(b, &st)).To(Succeed())
		Expect(st.System).To(HaveKey("comfyui_version"))
		Expect(st.System).To(HaveKey("ram_total"))
		Expect(st.Devices).To(HaveLen(1))
		Expect(st.Devices[0]).To(HaveKeyWithValue("type", "cpu"))
		Expect(st.Devices[0]).To(HaveKey("vram_total"))
		Expect(st.Regen).To(HaveKeyWithValue("fingerprint", HaveKeyWithValue("class", "cpu")))
		_, b = h.Get("/features")
		Expect(b).To(MatchJSON(`{"supports_preview_metadata": true, "supports_model_type_tags": false, "max_upload_size": 1048576,
			"extension": {"manager": {"supports_v4": false}}, "node_replacements": false, "assets": false}`))
		for _, p := range []string{"/embeddings", "/extensions", "/api/embeddings"} {
			_, b = h.Get(p)
			Expect(b).To(MatchJSON(`[]`), p)
		}
		code, _ := h.Get("/healthz")
		Expect(code).To(Equal(http.StatusOK))
		code, _ = h.Post("/free", `{"unload_models": true, "free_memory": true}`)
		Expect(code).To(Equal(http.StatusOK))
	})

	It("exposes Prometheus metrics", func() {
		id := h.Queue(`{"1": {"class_type": "TestSlow", "inputs": {"steps": 3, "ms": 1}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}`, "")
		h.History(id)
		_, b := h.Get("/metrics")
		text := string(b)
		Expect(text).To(ContainSubstring(`regen_executor_prompts_total{outcome="success"} 1`))
		Expect(text).To(ContainSubstring(`regen_executor_sampler_steps_total 3`))
		Expect(text).To(ContainSubstring(`regen_executor_node_execution_seconds_count{class="TestSlow"} 1`))
		Expect(text).To(ContainSubstring(`regen_executor_queue_depth 0`))
	})

	It("negotiates feature flags on the websocket", func() {
		ws := h.connect("ff")
		Expect(ws.Conn.Write(GinkgoT().Context(), 1, []byte(`{"type": "feature_flags", "data": {"supports_preview_metadata": true}}`))).To(Succeed())
		var m comfyclient.Msg
		Eventually(ws.Msgs, 5*time.Second).Should(Receive(&m))
		Expect(m.Type).To(Equal("feature_flags"))
		Expect(m.Data).To(HaveKeyWithValue("supports_preview_metadata", true))
	})

	It("sends binary preview frames to the submitting client, with metadata when negotiated", func() {
		plain := h.connect("plain")
		id := h.Queue(`{"1": {"class_type": "TestPreview", "inputs": {"value": 1}}}`, "plain")
		plain.Until(id)
		var frame []byte
		Eventually(plain.Binary, 5*time.Second).Should(Receive(&frame))
		Expect(frame[:8]).To(Equal([]byte{0, 0, 0, 1, 0, 0, 0, 2}), "type 1 (preview), format 2 (PNG)")
		Expect(string(frame[8:])).To(Equal("\x89PNG-preview"))

		meta := h.connect("meta")
		Expect(meta.Conn.Write(GinkgoT().Context(), 1, []byte(`{"type": "feature_flags", "data": {"supports_preview_metadata": true}}`))).To(Succeed())
		Eventually(meta.Msgs, 5*time.Second).Should(Receive(HaveField("Type", "feature_flags")))
		id = h.Queue(`{"1": {"class_type": "TestPreview", "inputs": {"value": 2}}}`, "meta")
		meta.Until(id)
		Eventually(meta.Binary, 5*time.Second).Should(Receive(&frame))
		Expect(frame[:4]).To(Equal([]byte{0, 0, 0, 4}), "type 4: preview with metadata")
		n := int(frame[4])<<24 | int(frame[5])<<16 | int(frame[6])<<8 | int(frame[7])
		var md map[string]any
		Expect(json.Unmarshal(frame[8:8+n], &md)).To(Succeed())
		Expect(md).To(HaveKeyWithValue("node_id", "1"))
		Expect(md).To(HaveKeyWithValue("prompt_id", id))
		Expect(md).To(HaveKeyWithValue("image_type", "image/png"))
		Expect(string(frame[8+n:])).To(Equal("\x89PNG-preview"))
		Consistently(plain.Binary, 200*time.Millisecond).ShouldNot(Receive(), "frames go to the submitting client only")
	})

	It("answers every route under /api too", func() {
		for _, p := range []string{"/queue", "/prompt", "/history", "/object_info", "/system_stats", "/features", "/models", "/extensions"} {
			code, _ := h.Get("/api" + p)
			Expect(code).To(Equal(http.StatusOK), p)
			code, _ = h.Get(p)
			Expect(code).To(Equal(http.StatusOK), p)
		}
		Expect(strings.HasPrefix(h.Base, "http://127.0.0.1:")).To(BeTrue())
	})
})
