package conformance

import (
	"bytes"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Routes and their JSON shapes (ComfyUI 0.33.0 server.py).
var _ = Describe("Routes", func() {
	DescribeTable("serve the same answer with and without the /api prefix",
		func(path string) {
			code, b := srv.Get(path)
			Expect(code).To(Equal(http.StatusOK))
			code2, b2 := srv.Get("/api" + path)
			Expect(code2).To(Equal(http.StatusOK))
			Expect(b2).To(MatchJSON(b))
		},
		Entry("object_info of one class", "/object_info/SaveImage"),
		Entry("embeddings", "/embeddings"),
		Entry("history of an unknown prompt", "/history/regen-conformance-none"),
		Entry("features", "/features"),
	)

	It("answers /system_stats with the system and the devices", func() {
		var st struct {
			System  map[string]any   `json:"system"`
			Devices []map[string]any `json:"devices"`
		}
		srv.GetJSON("/system_stats", &st)
		Expect(st.System).To(HaveKey("os"))
		Expect(st.System).To(HaveKey("ram_total"))
		Expect(st.System).To(HaveKey("ram_free"))
		Expect(st.System).To(HaveKeyWithValue("comfyui_version", Not(BeEmpty())))
		Expect(st.System).To(HaveKey("argv"))
		Expect(st.Devices).NotTo(BeEmpty())
		for _, k := range []string{"name", "type", "index", "vram_total", "vram_free", "torch_vram_total", "torch_vram_free"} {
			Expect(st.Devices[0]).To(HaveKey(k))
		}
	})

	It("names Python and PyTorch in /system_stats", func() {
		differs("system-stats-python")
		var st struct {
			System map[string]any `json:"system"`
		}
		srv.GetJSON("/system_stats", &st)
		Expect(st.System["python_version"]).To(MatchRegexp(`^3\.`))
		Expect(st.System["pytorch_version"]).NotTo(BeEmpty())
	})

	It("answers /features with every key of 0.33.0", func() {
		var f map[string]any
		srv.GetJSON("/features", &f)
		Expect(f).To(HaveKeyWithValue("supports_preview_metadata", true))
		Expect(f).To(HaveKeyWithValue("max_upload_size", BeNumerically(">", 0)))
		for _, k := range []string{"supports_model_type_tags", "extension", "node_replacements", "assets"} {
			Expect(f).To(HaveKey(k))
		}
		Expect(f["extension"]).To(HaveKeyWithValue("manager", HaveKey("supports_v4")))
	})

	It("has the feature values of a stock 0.33.0", func() {
		differs("features-values")
		var f map[string]any
		srv.GetJSON("/features", &f)
		Expect(f).To(HaveKeyWithValue("supports_model_type_tags", true))
		Expect(f).To(HaveKeyWithValue("node_replacements", true))
	})

	It("answers GET /prompt with the queue count", func() {
		var p struct {
			ExecInfo map[string]any `json:"exec_info"`
		}
		srv.GetJSON("/prompt", &p)
		Expect(p.ExecInfo).To(HaveKeyWithValue("queue_remaining", BeNumerically(">=", 0)))
	})

	It("answers GET /queue with the running and pending lists", func() {
		var q map[string][]any
		srv.GetJSON("/queue", &q)
		Expect(q).To(HaveKey("queue_running"))
		Expect(q).To(HaveKey("queue_pending"))
	})

	It("answers {} for the history and object_info of unknown ids", func() {
		code, b := srv.Get("/history/regen-conformance-none")
		Expect(code).To(Equal(http.StatusOK))
		Expect(b).To(MatchJSON(`{}`))
		code, b = srv.Get("/object_info/RegenNoSuchNode")
		Expect(code).To(Equal(http.StatusOK))
		Expect(b).To(MatchJSON(`{}`))
	})

	Describe("/object_info", func() {
		var info map[string]map[string]any
		BeforeEach(func() {
			info = nil
			srv.GetJSON("/object_info", &info)
		})

		It("describes SaveImage as an output node with hidden prompt inputs", func() {
			s := info["SaveImage"]
			Expect(s).To(HaveKeyWithValue("output_node", true))
			Expect(s).To(HaveKeyWithValue("category", "image"))
			Expect(s).To(HaveKeyWithValue("name", "SaveImage"))
			Expect(s).To(HaveKeyWithValue("display_name", "Save Image"))
			Expect(s["input"]).To(HaveKeyWithValue("hidden", map[string]any{"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}))
			Expect(s["input_order"]).To(HaveKeyWithValue("required", []any{"images", "filename_prefix"}))
			// 0.33.0: SaveImage passes its images on.
			Expect(s["output"]).To(Equal([]any{"IMAGE"}))
			Expect(s["output_name"]).To(Equal([]any{"images"}))
			Expect(info["PreviewImage"]["output"]).To(Equal([]any{"IMAGE"}))
		})

		It("describes ImageScale's COMBO inputs as V1 lists and its INT options", func() {
			s := info["ImageScale"]
			Expect(s).To(HaveKeyWithValue("category", "image/upscaling"))
			req := s["input"].(map[string]any)["required"].(map[string]any)
			Expect(req["upscale_method"]).To(Equal([]any{[]any{"nearest-exact", "bilinear", "area", "bicubic", "lanczos"}}))
			Expect(req["crop"]).To(Equal([]any{[]any{"disabled", "center"}}))
			Expect(req["width"]).To(Equal([]any{"INT", map[string]any{"default": 512.0, "min": 0.0, "max": 16384.0, "step": 1.0}}))
			Expect(s["output"]).To(Equal([]any{"IMAGE"}))
			Expect(s["output_is_list"]).To(Equal([]any{false}))
		})

		It("lists pixel_space last in VAELoader's options (0.33.0)", func() {
			spec := info["VAELoader"]["input"].(map[string]any)["required"].(map[string]any)["vae_name"].([]any)
			opts := spec[0].([]any)
			Expect(opts).NotTo(BeEmpty())
			Expect(opts[len(opts)-1]).To(Equal("pixel_space"))
		})

		It("lists uploaded files in LoadImage's options, with image_upload", func() {
			name := srv.input("objinfo", pattern(2, 2, 9))
			srv.GetJSON("/object_info/LoadImage", &info)
			spec := info["LoadImage"]["input"].(map[string]any)["required"].(map[string]any)["image"].([]any)
			Expect(spec[0]).To(ContainElement(name))
			Expect(spec[1]).To(HaveKeyWithValue("image_upload", true))
			Expect(info["LoadImage"]["output"]).To(Equal([]any{"IMAGE", "MASK"}))
		})

		It("carries 0.33.0's categories, search_aliases and essentials_category", func() {
			inv := info["ImageInvert"]
			Expect(inv).To(HaveKeyWithValue("category", "image/color"))
			Expect(inv).To(HaveKeyWithValue("search_aliases", []any{"reverse colors"}))
			Expect(inv).To(HaveKeyWithValue("essentials_category", "Image Tools"))
			Expect(inv).To(HaveKeyWithValue("has_intermediate_output", false))
			Expect(info["ImageBatch"]).To(HaveKeyWithValue("category", "image/batch"))
			Expect(info["ImageBatch"]).NotTo(HaveKey("essentials_category"))
			Expect(info["KSampler"]).To(HaveKeyWithValue("category", "model/sampling"))
			Expect(info["KSamplerSelect"]).To(HaveKeyWithValue("category", "model/sampling/samplers"))
		})

		It("marks 0.33.0's advanced inputs, deprecated classes and display names", func() {
			req := info["KSamplerAdvanced"]["input"].(map[string]any)["required"].(map[string]any)
			Expect(req["add_noise"]).To(Equal([]any{[]any{"enable", "disable"}, map[string]any{"advanced": true}}))
			Expect(req["start_at_step"]).To(Equal([]any{"INT", map[string]any{"default": 0.0, "min": 0.0, "max": 10000.0, "advanced": true}}))
			Expect(req["steps"]).To(Equal([]any{"INT", map[string]any{"default": 20.0, "min": 1.0, "max": 10000.0}}))
			Expect(info["ImageBatch"]).To(HaveKeyWithValue("deprecated", true))
			Expect(info["ImageBatch"]).To(HaveKeyWithValue("display_name", "Batch Images (DEPRECATED)"))
			Expect(info["ImageInvert"]).To(HaveKeyWithValue("display_name", "Invert Image Colors"))
		})

		It("describes a V3 class's COMBO with options and every V3 field", func() {
			ks := info["KSamplerSelect"]
			spec := ks["input"].(map[string]any)["required"].(map[string]any)["sampler_name"].([]any)
			Expect(spec[0]).To(Equal("COMBO"))
			Expect(spec[1]).To(HaveKeyWithValue("options", ContainElement("euler")))
			for _, k := range []string{"output_matchtypes", "dev_only", "api_node", "price_badge", "output_tooltips"} {
				Expect(ks).To(HaveKey(k))
			}
		})
	})

	It("answers the index page", func() {
		code, b := srv.Get("/")
		Expect(code).To(Equal(http.StatusOK))
		Expect(bytes.TrimSpace(b)).NotTo(BeEmpty())
	})
})
