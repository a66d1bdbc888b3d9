package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/internal/pngtext"
	"github.com/regen-dev/regen/suites/internal/comfyclient"
)

// chain is LoadImage(1) → ImageInvert(2) → SaveImage(9).
func chain(img string) string {
	return fmt.Sprintf(`{"1": {"class_type": "LoadImage", "inputs": {"image": %q}},
		"2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
		"9": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "regen-conformance"}}}`, img)
}

// Websocket message sequences (ComfyUI 0.33.0 execution.py execute and
// PromptExecutor.execute_async, comfy_execution/progress.py).
var _ = Describe("Websocket", func() {
	It("greets with status and the client id", func() {
		c, first := srv.connect("greet")
		Expect(first.Type).To(Equal("status"))
		Expect(first.Data).To(HaveKeyWithValue("sid", c.ID))
		Expect(first.Data).To(HaveKeyWithValue("status", HaveKeyWithValue("exec_info", HaveKey("queue_remaining"))))
	})

	It("sends a fresh prompt's frames in 0.33.0's order, and a cached re-run's", func() {
		c, _ := srv.connect("order")
		prompt := chain(srv.input("order", pattern(4, 4, 11)))
		id := srv.Queue(prompt, c.ID)
		got := trace(comfyclient.ForPrompt(c.Until(id), id))
		Expect(got).To(Equal([]string{
			"execution_start",
			"execution_cached",
			"progress_state:1=running",
			"executing:1",
			"progress_state:1=finished",
			"progress_state:1=finished,2=running",
			"executing:2",
			"progress_state:1=finished,2=finished",
			"progress_state:1=finished,2=finished,9=running",
			"executing:9",
			"executed:9",
			"progress_state:1=finished,2=finished,9=finished",
			"execution_success",
			"executing:<nil>",
		}))

		id2 := srv.Queue(prompt, c.ID)
		msgs := comfyclient.ForPrompt(c.Until(id2), id2)
		Expect(trace(msgs)).To(Equal([]string{
			"execution_start",
			"execution_cached",
			"executed:9",
			"progress_state:9=finished",
			"execution_success",
			"executing:<nil>",
		}))
		Expect(msgs[1].Data["nodes"]).To(Equal([]any{"1", "2", "9"}))
		Expect(msgs[2].Data["output"]).To(HaveKey("images"), "a cached output node reports its UI again")
	})

	It("lists in execution_cached the cached nodes the prompt does not execute", func() {
		// 0.33.0 execution.py execute_async: every node of the prompt
		// whose result is cached, in prompt order, executed or not.
		c, _ := srv.connect("outside")
		a, b := srv.input("outside-a", pattern(3, 3, 19)), srv.input("outside-b", pattern(3, 3, 23))
		load := func(img string) string {
			return fmt.Sprintf(`{"class_type": "LoadImage", "inputs": {"image": %q}}`, img)
		}
		preview := func(src string) string {
			return fmt.Sprintf(`{"class_type": "PreviewImage", "inputs": {"images": [%q, 0]}}`, src)
		}
		cached := func(prompt string, extra ...string) []any {
			GinkgoHelper()
			id := srv.Queue(prompt, c.ID, extra...)
			for _, m := range comfyclient.ForPrompt(c.Until(id), id) {
				if m.Type == "execution_cached" {
					return m.Data["nodes"].([]any)
				}
			}
			Fail("no execution_cached for " + id)
			return nil
		}
		Expect(cached(`{"1": ` + load(a) + `, "2": ` + preview("1") + `}`)).To(BeEmpty())
		Expect(cached(`{"3": `+load(b)+`, "4": `+preview("3")+`, "1": `+load(a)+`, "2": `+preview("1")+`}`,
			`"partial_execution_targets": ["4"]`)).To(Equal([]any{"1", "2"}), "an output left out by partial_execution_targets, and its input")
		Expect(cached(`{"5": `+load(b)+`, "1": `+load(a)+`, "6": `+preview("5")+`}`)).To(
			Equal([]any{"5", "1", "6"}), "a dangling node, kept from the prompt before")
	})

	It("sends progress_state with every field of a node's state", func() {
		c, _ := srv.connect("state")
		id := srv.Queue(chain(srv.input("state", pattern(2, 2, 13))), c.ID)
		for _, m := range comfyclient.ForPrompt(c.Until(id), id) {
			if m.Type != "progress_state" {
				continue
			}
			for nid, st := range m.Data["nodes"].(map[string]any) {
				Expect(st).To(Equal(map[string]any{"value": st.(map[string]any)["value"], "max": st.(map[string]any)["max"],
					"state": st.(map[string]any)["state"], "node_id": nid, "prompt_id": id, "display_node_id": nid,
					"parent_node_id": nil, "real_node_id": nid}))
			}
		}
	})

	It("sends executing, executed and execution_* to no one when the prompt has no client_id", func() {
		c, _ := srv.connect("silent")
		id := srv.Queue(chain(srv.input("silent", pattern(2, 2, 17))), "")
		srv.History(id)
		Consistently(func() []string {
			var types []string
			for {
				select {
				case m := <-c.Msgs:
					if m.Data["prompt_id"] == id && m.Type != "progress_state" && m.Type != "progress" {
						types = append(types, m.Type)
					}
				default:
					return types
				}
			}
		}, "300ms").Should(BeEmpty())
	})
})

var _ = Describe("Execution errors", func() {
	var entry map[string]any
	var name string
	BeforeEach(func() {
		name = "regen-conformance-" + srv.run + "-" + randomHex(3) + "-broken.png"
		code, _ := srv.Upload(name, []byte("not an image"), nil)
		Expect(code).To(Equal(200))
		id := srv.Queue(fmt.Sprintf(`{"1": {"class_type": "LoadImage", "inputs": {"image": %q}},
			"9": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}`, name), "regen-conformance-"+srv.run+"-err")
		entry = srv.History(id)
	})

	errorOf := func() map[string]any {
		GinkgoHelper()
		status := entry["status"].(map[string]any)
		Expect(status).To(HaveKeyWithValue("status_str", "error"))
		Expect(status).To(HaveKeyWithValue("completed", false))
		msgs := status["messages"].([]any)
		last := msgs[len(msgs)-1].([]any)
		Expect(last[0]).To(Equal("execution_error"))
		return last[1].(map[string]any)
	}

	It("records execution_error with 0.33.0's fields, naming the node and its inputs", func() {
		e := errorOf()
		Expect(e).To(HaveKeyWithValue("node_id", "1"))
		Expect(e).To(HaveKeyWithValue("node_type", "LoadImage"))
		Expect(e).To(HaveKeyWithValue("executed", BeEmpty()))
		Expect(e).To(HaveKeyWithValue("current_inputs", map[string]any{"image": []any{name}}))
		// 0.33.0: the output cache's node ids, every node of the prompt,
		// in no particular order.
		Expect(e).To(HaveKeyWithValue("current_outputs", ConsistOf("1", "9")))
		for _, k := range []string{"prompt_id", "exception_message", "exception_type", "traceback", "timestamp"} {
			Expect(e).To(HaveKey(k))
		}
		Expect(entry["outputs"]).To(BeEmpty())
	})

	It("names Python's exception and its traceback", func() {
		differs("python-exceptions")
		e := errorOf()
		Expect(e).To(HaveKeyWithValue("exception_type", "PIL.UnidentifiedImageError"))
		Expect(e["traceback"]).NotTo(BeEmpty())
	})
})

var _ = Describe("History", func() {
	It("holds the queue tuple, the outputs, the status messages and the meta of a prompt", func() {
		c, _ := srv.connect("hist")
		id := srv.Queue(chain(srv.input("hist", pattern(2, 2, 19))), c.ID, `"extra_data": {"extra_pnginfo": {"workflow": {"id": "w"}}}`)
		entry := srv.History(id)
		tuple := entry["prompt"].([]any)
		Expect(tuple).To(HaveLen(5))
		Expect(tuple[1]).To(Equal(id))
		Expect(tuple[2]).To(HaveKey("9"))
		extra := tuple[3].(map[string]any)
		Expect(extra).To(HaveKeyWithValue("client_id", c.ID))
		Expect(extra).To(HaveKeyWithValue("extra_pnginfo", map[string]any{"workflow": map[string]any{"id": "w"}}))
		Expect(extra).To(HaveKeyWithValue("create_time", BeNumerically(">", 1.7e12)), "0.33.0 stamps create_time (ms)")
		Expect(tuple[4]).To(Equal([]any{"9"}))
		status := entry["status"].(map[string]any)
		Expect(status).To(HaveKeyWithValue("status_str", "success"))
		Expect(status).To(HaveKeyWithValue("completed", true))
		var names []string
		for _, m := range status["messages"].([]any) {
			names = append(names, m.([]any)[0].(string))
			Expect(m.([]any)[1]).To(HaveKey("timestamp"))
		}
		Expect(names).To(Equal([]string{"execution_start", "execution_cached", "execution_success"}))
		Expect(entry["meta"]).To(HaveKeyWithValue("9", map[string]any{"node_id": "9", "display_node": "9", "parent_node": nil, "real_node_id": "9"}))
		img := outputImages(entry, "9")
		Expect(img).To(HaveLen(1))
		Expect(img[0]).To(HaveKeyWithValue("type", "output"))
		Expect(img[0]).To(HaveKeyWithValue("subfolder", ""))
		Expect(img[0]["filename"]).To(MatchRegexp(`^regen-conformance_\d{5}_\.png$`))
	})
})

// Pixels of the image nodes both servers have, computed as ComfyUI computes
// them: 8-bit values through float32 and back with SaveImage's truncation.
var _ = Describe("Image nodes", func() {
	It("inverts an image exactly", func() {
		src := pattern(5, 3, 23)
		id := srv.Queue(chain(srv.input("invert", src)), "")
		out := decodePNG(srv.View(outputImages(srv.History(id), "9")[0], ""))
		Expect(out.Bounds().Size()).To(Equal(image.Pt(5, 3)))
		inv := func(x float32) float32 { return 1 - x }
		for y := range 3 {
			for x := range 5 {
				s, o := src.NRGBAAt(x, y), nrgba(out, x, y)
				Expect([]uint8{o.R, o.G, o.B, o.A}).To(Equal([]uint8{f32(s.R, inv), f32(s.G, inv), f32(s.B, inv), 255}), "pixel %d,%d", x, y)
			}
		}
	})

	It("goes on from SaveImage's output (0.33.0)", func() {
		src := pattern(3, 2, 37)
		id := srv.Queue(fmt.Sprintf(`{"1": {"class_type": "LoadImage", "inputs": {"image": %q}},
			"2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "regen-conformance"}},
			"3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
			"9": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}}`, srv.input("chain-save", src)), "")
		entry := srv.History(id)
		Expect(outputImages(entry, "2")).To(HaveLen(1))
		out := decodePNG(srv.View(outputImages(entry, "9")[0], ""))
		inv := func(x float32) float32 { return 1 - x }
		s, o := src.NRGBAAt(2, 1), nrgba(out, 2, 1)
		Expect([]uint8{o.R, o.G, o.B}).To(Equal([]uint8{f32(s.R, inv), f32(s.G, inv), f32(s.B, inv)}))
	})

	It("scales by nearest-exact and batches two images into two files", func() {
		src := pattern(2, 2, 29)
		name := srv.input("scale", src)
		id := srv.Queue(fmt.Sprintf(`{"1": {"class_type": "LoadImage", "inputs": {"image": %q}},
			"2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "nearest-exact", "width": 4, "height": 4, "crop": "disabled"}},
			"3": {"class_type": "ImageBatch", "inputs": {"image1": ["2", 0], "image2": ["2", 0]}},
			"9": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "regen-conformance"}}}`, name), "")
		imgs := outputImages(srv.History(id), "9")
		Expect(imgs).To(HaveLen(2))
		same := func(x float32) float32 { return x }
		for _, ref := range imgs {
			out := decodePNG(srv.View(ref, ""))
			Expect(out.Bounds().Size()).To(Equal(image.Pt(4, 4)))
			for y := range 4 {
				for x := range 4 {
					s, o := src.NRGBAAt(x/2, y/2), nrgba(out, x, y)
					Expect([]uint8{o.R, o.G, o.B}).To(Equal([]uint8{f32(s.R, same), f32(s.G, same), f32(s.B, same)}), "pixel %d,%d", x, y)
				}
			}
		}
	})

	It("encodes and decodes through VAELoader's pixel_space (0.33.0)", func() {
		src := pattern(4, 3, 41)
		id := srv.Queue(fmt.Sprintf(`{"1": {"class_type": "LoadImage", "inputs": {"image": %q}},
			"2": {"class_type": "VAELoader", "inputs": {"vae_name": "pixel_space"}},
			"3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 0]}},
			"4": {"class_type": "LatentMultiply", "inputs": {"samples": ["3", 0], "multiplier": 0.5}},
			"5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["2", 0]}},
			"9": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "regen-conformance"}}}`, srv.input("pixel-space", src)), "")
		out := decodePNG(srv.View(outputImages(srv.History(id), "9")[0], ""))
		Expect(out.Bounds().Size()).To(Equal(image.Pt(4, 3)), "a pixel-space latent is the image's size")
		// comfy/sd.py: process_input x*2-1, process_output (x+1)/2 clamped.
		halve := func(x float32) float32 {
			v := float32(float32(x*2)-1) * 0.5
			return float32(v+1) / 2
		}
		for y := range 3 {
			for x := range 4 {
				s, o := src.NRGBAAt(x, y), nrgba(out, x, y)
				Expect([]uint8{o.R, o.G, o.B, o.A}).To(Equal([]uint8{f32(s.R, halve), f32(s.G, halve), f32(s.B, halve), 255}), "pixel %d,%d", x, y)
			}
		}
	})

	It("embeds the prompt in the client's key order, with LoadImage's is_changed, and extra_pnginfo", func() {
		src := pattern(2, 2, 31)
		data := encodePNG(src)
		name := "regen-conformance-" + srv.run + "-meta.png"
		code, _ := srv.Upload(name, data, map[string]string{"overwrite": "true"})
		Expect(code).To(Equal(200))
		prompt := fmt.Sprintf(`{"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "regen-conformance", "images": ["2", 0]}},
			"2": {"inputs": {"image": ["1", 0]}, "class_type": "ImageInvert", "_meta": {"title": "Invert"}},
			"1": {"class_type": "LoadImage", "inputs": {"image": %q}}}`, name)
		id := srv.Queue(prompt, "", `"extra_data": {"extra_pnginfo": {"workflow": {"b": 1, "a": 2}, "other": "x"}}`)
		list, err := pngtext.Read(strings.NewReader(string(srv.View(outputImages(srv.History(id), "9")[0], ""))))
		Expect(err).NotTo(HaveOccurred())
		chunks := map[string]string{}
		var keys []string
		for _, c := range list {
			chunks[c.Keyword] = c.Text
			keys = append(keys, c.Keyword)
		}
		Expect(keys).To(Equal([]string{"prompt", "workflow", "other"}))
		sum := sha256.Sum256(data)
		want := fmt.Sprintf(`{"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "regen-conformance", "images": ["2", 0]}}, `+
			`"2": {"inputs": {"image": ["1", 0]}, "class_type": "ImageInvert", "_meta": {"title": "Invert"}}, `+
			`"1": {"class_type": "LoadImage", "inputs": {"image": %q}, "is_changed": [%q]}}`, name, hex.EncodeToString(sum[:]))
		Expect(chunks["prompt"]).To(Equal(want))
		Expect(chunks["workflow"]).To(Equal(`{"b": 1, "a": 2}`))
		Expect(chunks["other"]).To(Equal(`"x"`))
		var v any
		Expect(json.Unmarshal([]byte(chunks["prompt"]), &v)).To(Succeed())
	})

	It("writes the is_changed of a LoadImage the prompt does not execute too", func() {
		// 0.33.0 keys every node of the prompt (caching.py add_keys over
		// prompt.keys()), running IS_CHANGED on each.
		data := encodePNG(pattern(2, 2, 43))
		name := "regen-conformance-" + srv.run + "-dangling.png"
		code, _ := srv.Upload(name, data, map[string]string{"overwrite": "true"})
		Expect(code).To(Equal(200))
		id := srv.Queue(fmt.Sprintf(`{"1": {"class_type": "LoadImage", "inputs": {"image": %q}},
			"5": {"class_type": "LoadImage", "inputs": {"image": %q}},
			"9": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "regen-conformance"}}}`, name, name), "")
		list, err := pngtext.Read(strings.NewReader(string(srv.View(outputImages(srv.History(id), "9")[0], ""))))
		Expect(err).NotTo(HaveOccurred())
		Expect(list).NotTo(BeEmpty())
		Expect(list[0].Keyword).To(Equal("prompt"))
		sum := hex.EncodeToString(func() []byte { s := sha256.Sum256(data); return s[:] }())
		Expect(list[0].Text).To(Equal(fmt.Sprintf(`{"1": {"class_type": "LoadImage", "inputs": {"image": %q}, "is_changed": [%q]}, `+
			`"5": {"class_type": "LoadImage", "inputs": {"image": %q}, "is_changed": [%q]}, `+
			`"9": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "regen-conformance"}}}`, name, sum, name, sum)))
	})
})
