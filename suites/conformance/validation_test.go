package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Validation bodies of POST /prompt, as ComfyUI 0.33.0's server.py
// post_prompt and execution.py validate_prompt / validate_inputs answer.
var _ = Describe("POST /prompt validation", func() {
	var img string
	BeforeEach(func() { img = srv.input("val", pattern(4, 4, 1)) })

	save := func(from string) string {
		return fmt.Sprintf(`"9": {"class_type": "SaveImage", "inputs": {"images": %s, "filename_prefix": "regen-conformance"}}`, from)
	}
	load := func() string { return fmt.Sprintf(`"1": {"class_type": "LoadImage", "inputs": {"image": %q}}`, img) }

	It("answers no_prompt for a body without prompt", func() {
		code, b := srv.Post("/prompt", `{"client_id": "x"}`)
		Expect(code).To(Equal(http.StatusBadRequest))
		Expect(b).To(MatchJSON(`{"error": {"type": "no_prompt", "message": "No prompt provided",
			"details": "No prompt provided", "extra_info": {}}, "node_errors": {}}`))
	})

	It("answers missing_node_type for an unknown class, with the title and the node in extra_info", func() {
		r := srv.reject(`{"1": {"class_type": "RegenNoSuchNode", "inputs": {}, "_meta": {"title": "My node"}}}`)
		Expect(r.Error).To(Equal(reason{Type: "missing_node_type",
			Message: "Node 'My node' not found. The custom node may not be installed.", Details: "Node ID '#1'",
			ExtraInfo: map[string]any{"node_id": "1", "class_type": "RegenNoSuchNode", "node_title": "My node"}}))
		Expect(r.NodeErrors).To(BeEmpty())
	})

	It("answers missing_node_type for a node without class_type", func() {
		r := srv.reject(`{"1": {"inputs": {}}}`)
		Expect(r.Error.Type).To(Equal("missing_node_type"))
		Expect(r.Error.Message).To(Equal("Node 'ID #1' has no class_type. The workflow may be corrupted or a custom node is missing."))
		Expect(r.Error.ExtraInfo).To(Equal(map[string]any{"node_id": "1", "class_type": nil, "node_title": nil}))
	})

	It("answers prompt_no_outputs when no node is an output node", func() {
		r := srv.reject(`{` + load() + `}`)
		Expect(r.Error).To(Equal(reason{Type: "prompt_no_outputs", Message: "Prompt has no outputs", Details: "",
			ExtraInfo: map[string]any{}}))
	})

	It("names a missing required input", func() {
		r := srv.reject(`{"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}`)
		Expect(r.Error.Type).To(Equal("prompt_outputs_failed_validation"))
		Expect(r.Error.Details).To(Equal("Required input is missing: images"))
		Expect(r.NodeErrors).To(Equal(map[string]nodeErrors{"9": {ClassType: "SaveImage", DependentOutputs: []string{"9"},
			Errors: []reason{{Type: "required_input_missing", Message: "Required input is missing", Details: "images",
				ExtraInfo: map[string]any{"input_name": "images"}}}}}))
	})

	It("names the types of a mismatched link", func() {
		r := srv.reject(`{` + load() + `, ` + save(`["1", 1]`) + `}`)
		e := r.NodeErrors["9"].Errors
		Expect(e).To(HaveLen(1))
		Expect(e[0].Type).To(Equal("return_type_mismatch"))
		Expect(e[0].Details).To(Equal("images, received_type(MASK) mismatch input_type(IMAGE)"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("received_type", "MASK"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("linked_node", []any{"1", float64(1)}))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("input_config", HaveExactElements("IMAGE", BeAssignableToTypeOf(map[string]any{}))))
	})

	It("lists the options of a COMBO value not in the list", func() {
		r := srv.reject(`{` + load() + `, "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bogus",
			"width": 8, "height": 8, "crop": "disabled"}}, ` + save(`["2", 0]`) + `}`)
		e := r.NodeErrors["2"].Errors
		Expect(e).To(HaveLen(1))
		Expect(e[0]).To(Equal(reason{Type: "value_not_in_list", Message: "Value not in list",
			Details: "upscale_method: 'bogus' not in ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']",
			ExtraInfo: map[string]any{"input_name": "upscale_method", "received_value": "bogus",
				"input_config": []any{[]any{"nearest-exact", "bilinear", "area", "bicubic", "lanczos"}, map[string]any{}}}}))
		Expect(r.NodeErrors["2"].DependentOutputs).To(Equal([]string{"9"}))
		Expect(r.NodeErrors).NotTo(HaveKey("9"), "a node failing only because of its input is not listed")
	})

	It("words a value over max as ComfyUI does", func() {
		r := srv.reject(`{` + load() + `, "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "nearest-exact",
			"width": 99999, "height": 8, "crop": "disabled"}}, ` + save(`["2", 0]`) + `}`)
		e := r.NodeErrors["2"].Errors
		Expect(e).To(HaveLen(1))
		Expect(e[0].Type).To(Equal("value_bigger_than_max"))
		Expect(e[0].Message).To(Equal("Value 99999 bigger than max of 16384"))
		Expect(e[0].Details).To(Equal("width"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("received_value", float64(99999)))
	})

	It("keeps a FLOAT bound declared as an integer an integer (SDTurboScheduler's min=0)", func() {
		code, b := srv.Submit(`{"1": {"class_type": "SDTurboScheduler", "inputs": {"model": ["2", 0], "steps": 1, "denoise": -1}},
			"2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "regen-conformance-none.safetensors"}},
			"3": {"class_type": "SamplerCustom", "inputs": {"model": ["2", 0], "add_noise": true, "noise_seed": 1, "cfg": 1,
				"positive": ["4", 0], "negative": ["4", 0], "sampler": ["5", 0], "sigmas": ["1", 0], "latent_image": ["6", 0]}},
			"4": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["2", 1]}},
			"5": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
			"6": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
			"7": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["2", 2]}},
			"8": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}}`, "")
		Expect(code).To(Equal(http.StatusBadRequest), string(b))
		var r struct {
			NodeErrors map[string]struct {
				Errors []struct {
					Message   string `json:"message"`
					ExtraInfo struct {
						InputConfig []any `json:"input_config"`
					} `json:"extra_info"`
				} `json:"errors"`
			} `json:"node_errors"`
		}
		// Numbers as written: 0 and 0.0 differ.
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		Expect(dec.Decode(&r)).To(Succeed(), string(b))
		e := r.NodeErrors["1"].Errors
		Expect(e).To(HaveLen(1), string(b))
		Expect(e[0].Message).To(Equal("Value -1.0 smaller than min of 0"))
		Expect(e[0].ExtraInfo.InputConfig[1]).To(HaveKeyWithValue("min", json.Number("0")))
		Expect(e[0].ExtraInfo.InputConfig[1]).To(HaveKeyWithValue("max", json.Number("1.0")))

		code, b = srv.Get("/object_info/SDTurboScheduler")
		Expect(code).To(Equal(http.StatusOK))
		var info map[string]struct {
			Input struct {
				Required map[string][]any `json:"required"`
			} `json:"input"`
		}
		dec = json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		Expect(dec.Decode(&info)).To(Succeed(), string(b))
		Expect(info["SDTurboScheduler"].Input.Required["denoise"][1]).To(HaveKeyWithValue("min", json.Number("0")))
		Expect(info["SDTurboScheduler"].Input.Required["steps"][1]).To(HaveKeyWithValue("min", json.Number("1")))
	})

	It("words a missing LoadImage file without the server's folder", func() {
		r := srv.reject(`{"1": {"class_type": "LoadImage", "inputs": {"image": "regen-conformance-missing.png"}}, ` + save(`["1", 0]`) + `}`)
		Expect(r.NodeErrors["1"].Errors).To(Equal([]reason{{Type: "custom_validation_failed",
			Message: "Custom validation failed for node", Details: "image - Invalid image file: regen-conformance-missing.png",
			ExtraInfo: map[string]any{"input_name": "image"}}}))
	})

	It("reports a dependency cycle on every node of the cycle (0.33.0)", func() {
		r := srv.reject(`{"1": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
			"2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}, ` + save(`["1", 0]`) + `}`)
		Expect(r.Error.Type).To(Equal("prompt_outputs_failed_validation"))
		Expect(r.NodeErrors).To(HaveLen(2))
		for _, id := range []string{"1", "2"} {
			Expect(r.NodeErrors[id].Errors).To(Equal([]reason{{Type: "dependency_cycle", Message: "Dependency cycle detected",
				Details:   "1 (ImageInvert) -> 2 (ImageInvert) -> 1 (ImageInvert)",
				ExtraInfo: map[string]any{"node_id": id, "cycle_nodes": []any{"1", "2"}}}}), "node %s", id)
			Expect(r.NodeErrors[id].DependentOutputs).To(Equal([]string{"9"}))
		}
	})

	It("blames a link to a missing node on the output that holds it", func() {
		r := srv.reject(`{` + save(`["77", 0]`) + `}`)
		Expect(r.NodeErrors).To(HaveLen(1))
		e := r.NodeErrors["9"].Errors
		Expect(e).To(HaveLen(1))
		Expect(e[0].Type).To(Equal("exception_during_validation"))
		Expect(e[0].Message).To(Equal("Exception when validating node"))
		Expect(e[0].Details).To(Equal("'77'"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("exception_type", "KeyError"))
	})

	It("blames a link to a missing node inside the graph on that node, with its consumer's input", func() {
		r := srv.reject(`{"2": {"class_type": "ImageInvert", "inputs": {"image": ["77", 0]}}, ` + save(`["2", 0]`) + `}`)
		Expect(r.NodeErrors).To(HaveLen(1))
		e := r.NodeErrors["2"].Errors
		Expect(e).To(HaveLen(1))
		Expect(e[0].Type).To(Equal("exception_during_inner_validation"))
		Expect(e[0].Message).To(Equal("Exception when validating inner node"))
		Expect(e[0].Details).To(Equal("'77'"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("input_name", "images"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("linked_node", []any{"2", float64(0)}))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("exception_type", "KeyError"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("exception_message", "'77'"))
	})

	It("blames a link to a missing output slot on the node that holds it", func() {
		r := srv.reject(`{` + load() + `, ` + save(`["1", 5]`) + `}`)
		e := r.NodeErrors["9"].Errors
		Expect(e).To(HaveLen(1))
		Expect(e[0].Type).To(Equal("exception_during_validation"))
		Expect(e[0].Details).To(Equal("tuple index out of range"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("exception_type", "IndexError"))
	})

	DescribeTable("raises on a link Python cannot follow, as 0.33.0's validate_inputs does",
		func(link, typ, details string) {
			r := srv.reject(`{` + load() + `, ` + save(link) + `}`)
			e := r.NodeErrors["9"].Errors
			Expect(e).To(HaveLen(1))
			Expect(e[0].Type).To(Equal("exception_during_validation"))
			Expect(e[0].Details).To(Equal(details))
			Expect(e[0].ExtraInfo).To(HaveKeyWithValue("exception_type", typ))
		},
		Entry("a string slot", `["1", "0"]`, "TypeError", "tuple indices must be integers or slices, not str"),
		Entry("a float slot", `["1", 0.0]`, "TypeError", "tuple indices must be integers or slices, not float"),
		Entry("a number for a node id", `[1, 0]`, "KeyError", "1"),
	)

	It("blames a node without inputs on itself, through its consumer", func() {
		r := srv.reject(`{"2": {"class_type": "ImageInvert"}, ` + save(`["2", 0]`) + `}`)
		e := r.NodeErrors["2"].Errors
		Expect(e).To(HaveLen(1))
		Expect(e[0].Type).To(Equal("exception_during_inner_validation"))
		Expect(e[0].Details).To(Equal("'inputs'"))
		Expect(e[0].ExtraInfo).To(HaveKeyWithValue("input_name", "images"))
	})

	It("queues the outputs that validate and reports the others in node_errors", func() {
		code, b := srv.Submit(`{`+load()+`, `+save(`["1", 0]`)+`, "8": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}`, "")
		Expect(code).To(Equal(http.StatusOK), string(b))
		var r struct {
			PromptID   string                `json:"prompt_id"`
			NodeErrors map[string]nodeErrors `json:"node_errors"`
		}
		Expect(jsonUnmarshal(b, &r)).To(Succeed())
		Expect(r.NodeErrors).To(HaveKey("8"))
		entry := srv.History(r.PromptID)
		Expect(entry["outputs"]).To(HaveKey("9"))
		Expect(entry["outputs"]).NotTo(HaveKey("8"))
	})

	It("accepts a float for an INT input and truncates it", func() {
		id := srv.Queue(`{`+load()+`, "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "nearest-exact",
			"width": 8.7, "height": 6.2, "crop": "disabled"}}, `+save(`["2", 0]`)+`}`, "")
		out := decodePNG(srv.View(outputImages(srv.History(id), "9")[0], ""))
		Expect(out.Bounds().Dx()).To(Equal(8))
		Expect(out.Bounds().Dy()).To(Equal(6))
	})

	It("refuses a client prompt_id that is not a UUID (0.33.0)", func() {
		code, b := srv.Submit(`{`+load()+`, `+save(`["1", 0]`)+`}`, "", `"prompt_id": "not-a-uuid"`)
		Expect(code).To(Equal(http.StatusBadRequest), string(b))
		Expect(b).To(MatchJSON(`{"error": {"type": "invalid_prompt_id", "message": "prompt_id must be a valid UUID",
			"details": "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one",
			"extra_info": {}}, "node_errors": {}}`))
	})
})
