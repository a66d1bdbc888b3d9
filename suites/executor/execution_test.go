package executor_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/suites/internal/comfyclient"
)

// imageGraph is StubImage → TestInvert → TestSavePNG, with ids prefixed.
func imageGraph(p, content string, size int) string {
	return fmt.Sprintf(`{
		"%[1]s1": {"class_type": "StubImage", "inputs": {"content": "%[2]s", "height": %[3]d, "width": %[3]d, "batch_size": 1}},
		"%[1]s2": {"class_type": "TestInvert", "inputs": {"image": ["%[1]s1", 0]}},
		"%[1]s3": {"class_type": "TestSavePNG", "inputs": {"images": ["%[1]s2", 0], "filename_prefix": "t"}}
	}`, p, content, size)
}

var _ = Describe("Execution", func() {
	var h *harness
	BeforeEach(func() { h = startExecutor() })

	It("sends ComfyUI's message sequence, executing null last", func() {
		ws := h.connect("seq")
		id := h.Queue(imageGraph("", "WHITE", 8), "seq")
		msgs := ws.Until(id)
		t := comfyclient.Types(msgs)
		Expect(t).To(ContainElements("execution_start", "execution_cached", "executing", "progress_state", "executed", "execution_success"))
		idx := func(typ string) int {
			for i, x := range t {
				if x == typ {
					return i
				}
			}
			return -1
		}
		Expect(idx("execution_start")).To(BeNumerically("<", idx("execution_cached")))
		Expect(idx("execution_cached")).To(BeNumerically("<", idx("executing")))
		Expect(idx("executed")).To(BeNumerically("<", idx("execution_success")))
		Expect(t[len(t)-1]).To(Equal("executing"))
		Expect(t[len(t)-2]).To(Equal("status"), "status is broadcast after history is written, before executing null")
		Expect(comfyclient.ExecutedNodes(msgs)).To(Equal([]string{"1", "2", "3"}))

		// History is already written when executing null arrives.
		_, b := h.Get("/history/" + id)
		var hist map[string]struct {
			Prompt  []json.RawMessage                      `json:"prompt"`
			Outputs map[string]map[string][]map[string]any `json:"outputs"`
			Status  struct {
				StatusStr string `json:"status_str"`
				Completed bool   `json:"completed"`
				Messages  [][]json.RawMessage
			} `json:"status"`
			Meta map[string]map[string]any `json:"meta"`
		}
		Expect(json.Unmarshal(b, &hist)).To(Succeed())
		e := hist[id]
		Expect(e.Prompt).To(HaveLen(5))
		Expect(string(e.Prompt[1])).To(Equal(`"` + id + `"`))
		Expect(string(e.Prompt[4])).To(Equal(`["3"]`))
		Expect(e.Status.StatusStr).To(Equal("success"))
		Expect(e.Status.Completed).To(BeTrue())
		Expect(e.Status.Messages).To(HaveLen(3))
		Expect(e.Meta).To(HaveKeyWithValue("3", HaveKeyWithValue("node_id", "3")))
		img := e.Outputs["3"]["images"][0]
		Expect(img).To(HaveKeyWithValue("type", "output"))

		// The image is served by /view.
		code, png := h.Get(fmt.Sprintf("/view?filename=%s&type=output&subfolder=", img["filename"]))
		Expect(code).To(Equal(http.StatusOK))
		Expect(png[:8]).To(Equal([]byte("\x89PNG\r\n\x1a\n")))
	})

	It("serves an identical prompt from cache: nothing runs, executed still carries the UI", func() {
		ws := h.connect("cache")
		first := ws.Until(h.Queue(imageGraph("", "WHITE", 8), "cache"))
		Expect(comfyclient.ExecutedNodes(first)).To(HaveLen(3))
		id := h.Queue(imageGraph("", "WHITE", 8), "cache")
		second := ws.Until(id)
		Expect(comfyclient.ExecutedNodes(second)).To(BeEmpty())
		Expect(comfyclient.CachedNodes(second)).To(Equal([]string{"1", "2", "3"}))
		var executed []comfyclient.Msg
		for _, m := range second {
			if m.Type == "executed" {
				executed = append(executed, m)
			}
		}
		Expect(executed).To(HaveLen(1))
		Expect(executed[0].Data["output"]).To(HaveKey("images"))
		Expect(h.runs.get("TestSavePNG")).To(Equal(1), "a cached output node writes nothing")
		entry := h.History(id)
		Expect(entry["outputs"]).To(HaveKey("3"))
	})

	It("runs the built-in SaveImage: ComfyUI names, no new file when cached", func() {
		if code, b := h.Get("/object_info/SaveImage"); code != http.StatusOK || string(b) == "{}" {
			Skip("nodes.Builtin() has no SaveImage yet")
		}
		ws := h.connect("save")
		prompt := `{"1": {"class_type": "StubImage", "inputs": {"content": "NOISE", "height": 8, "width": 8, "batch_size": 2}},
			"2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "conf"}}}`
		id := h.Queue(prompt, "save", `"extra_data": {"extra_pnginfo": {"workflow": {"nodes": []}}}`)
		ws.Until(id)
		entry := h.History(id)
		Expect(entry["outputs"]).To(HaveKeyWithValue("2", HaveKeyWithValue("images", ConsistOf(
			HaveKeyWithValue("filename", "conf_00001_.png"), HaveKeyWithValue("filename", "conf_00002_.png")))))
		msgs := ws.Until(h.Queue(prompt, "save"))
		Expect(comfyclient.ExecutedNodes(msgs)).To(BeEmpty())
		files, err := filepath.Glob(filepath.Join(h.dirs.Output, "conf_*"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).To(HaveLen(2), "a cached SaveImage writes nothing")
		png, err := os.ReadFile(files[0])
		Expect(err).NotTo(HaveOccurred())
		Expect(string(png)).To(ContainSubstring("prompt"), "the prompt is embedded as PNG text")
		Expect(string(png)).To(ContainSubstring(`"StubImage"`))
	})

	It("re-runs only what a changed constant invalidates", func() {
		ws := h.connect("partial")
		prompt := func(v int) string {
			return fmt.Sprintf(`{"1": {"class_type": "TestConst", "inputs": {"value": 1}},
				"2": {"class_type": "TestConst", "inputs": {"value": %d}},
				"3": {"class_type": "TestAddInts", "inputs": {"a": ["1", 0], "b": ["2", 0]}},
				"4": {"class_type": "TestIntOut", "inputs": {"value": ["3", 0]}},
				"5": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}`, v)
		}
		Expect(comfyclient.ExecutedNodes(ws.Until(h.Queue(prompt(2), "partial")))).To(ConsistOf("1", "2", "3", "4", "5"))
		msgs := ws.Until(h.Queue(prompt(3), "partial"))
		Expect(comfyclient.ExecutedNodes(msgs)).To(ConsistOf("2", "3", "4"))
		Expect(comfyclient.CachedNodes(msgs)).To(Equal([]string{"1", "5"}))
	})

	It("ignores node ids when caching", func() {
		ws := h.connect("ids")
		ws.Until(h.Queue(imageGraph("a", "BLACK", 8), "ids"))
		msgs := ws.Until(h.Queue(imageGraph("zz", "BLACK", 8), "ids"))
		Expect(comfyclient.ExecutedNodes(msgs)).To(BeEmpty())
		Expect(comfyclient.CachedNodes(msgs)).To(Equal([]string{"zz1", "zz2", "zz3"}))
	})

	It("always re-runs a node whose IS_CHANGED is NaN, and what depends on it", func() {
		ws := h.connect("nan")
		prompt := `{"1": {"class_type": "TestNoise", "inputs": {"value": 4}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}},
			"3": {"class_type": "TestConst", "inputs": {"value": 9}}, "4": {"class_type": "TestIntOut", "inputs": {"value": ["3", 0]}}}`
		ws.Until(h.Queue(prompt, "nan"))
		msgs := ws.Until(h.Queue(prompt, "nan"))
		Expect(comfyclient.ExecutedNodes(msgs)).To(ConsistOf("1", "2"))
		Expect(h.runs.get("TestNoise")).To(Equal(2))
	})

	It("maps a node over list inputs, repeating the last element of the shorter list", func() {
		prompt := `{"1": {"class_type": "TestIntList", "inputs": {"count": 3}}, "2": {"class_type": "TestConst", "inputs": {"value": 5}},
			"3": {"class_type": "TestAddInts", "inputs": {"a": ["1", 0], "b": ["2", 0]}},
			"4": {"class_type": "TestIntOut", "inputs": {"value": ["3", 0]}}}`
		entry := h.History(h.Queue(prompt, ""))
		Expect(entry["outputs"]).To(HaveKeyWithValue("4", HaveKeyWithValue("text", Equal([]any{"5", "15", "25"}))))
	})

	It("interrupts a running prompt: execution_interrupted, history error and not completed", func() {
		ws := h.connect("int")
		id := h.Queue(`{"1": {"class_type": "TestSlow", "inputs": {"steps": 500, "ms": 10}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}`, "int")
		Eventually(func() bool {
			select {
			case m := <-ws.Msgs:
				return m.Type == "progress"
			default:
				return false
			}
		}, 10*time.Second, time.Millisecond).Should(BeTrue())
		code, _ := h.Post("/interrupt", `{"prompt_id": "`+id+`"}`)
		Expect(code).To(Equal(http.StatusOK))
		msgs := ws.Until(id)
		Expect(comfyclient.Types(msgs)).To(ContainElement("execution_interrupted"))
		Expect(comfyclient.Types(msgs)).NotTo(ContainElement("execution_success"))
		entry := h.History(id)
		status := entry["status"].(map[string]any)
		Expect(status["status_str"]).To(Equal("error"))
		Expect(status["completed"]).To(BeFalse())

		// The next prompt runs normally.
		next := h.Queue(`{"1": {"class_type": "TestSlow", "inputs": {"steps": 1, "ms": 1}}, "2": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}`, "int")
		Expect(comfyclient.Types(ws.Until(next))).To(ContainElement("execution_success"))
	})

	It("reports a failing node with execution_error and keeps the earlier outputs", func() {
		ws := h.connect("err")
		id := h.Queue(`{"1": {"class_type": "TestConst", "inputs": {"value": 7}}, "2": {"class_type": "TestRaise", "inputs": {"value": ["1", 0]}},
			"3": {"class_type": "TestIntOut", "inputs": {"value": ["2", 0]}}, "4": {"class_type": "TestIntOut", "inputs": {"value": ["1", 0]}}}`, "err")
		msgs := ws.Until(id)
		var errMsg map[string]any
		for _, m := range msgs {
			if m.Type == "execution_error" {
				errMsg = m.Data
			}
		}
		Expect(errMsg).NotTo(BeNil(), "types: %v", comfyclient.Types(msgs))
		Expect(errMsg).To(HaveKeyWithValue("node_id", "2"))
		Expect(errMsg).To(HaveKeyWithValue("node_type", "TestRaise"))
		Expect(errMsg).To(HaveKeyWithValue("exception_message", "raised on purpose"))
		Expect(errMsg).To(HaveKeyWithValue("exception_type", "RuntimeError"))
		Expect(errMsg).To(HaveKeyWithValue("current_inputs", HaveKeyWithValue("value", ConsistOf(BeNumerically("==", 7)))))
		Expect(errMsg).To(HaveKey("traceback"))
		Expect(errMsg["executed"]).To(ContainElement("1"))
		entry := h.History(id)
		Expect(entry["status"]).To(HaveKeyWithValue("status_str", "error"))
		Expect(entry["status"]).To(HaveKeyWithValue("completed", false))
	})

	It("runs a 100k-node chain without exhausting the stack", func() {
		const n = 100_000
		var b strings.Builder
		b.WriteString(`{"0": {"class_type": "TestConst", "inputs": {"value": 1}}`)
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, `, "%d": {"class_type": "TestAddInts", "inputs": {"a": ["%d", 0]}}`, i, i-1)
		}
		fmt.Fprintf(&b, `, "out": {"class_type": "TestIntOut", "inputs": {"value": ["%d", 0]}}}`, n-1)
		entry := h.History(h.Queue(b.String(), ""))
		Expect(entry["status"]).To(HaveKeyWithValue("status_str", "success"))
		Expect(entry["outputs"]).To(HaveKeyWithValue("out", HaveKeyWithValue("text", ConsistOf("1"))))
	})

	It("handles a 10 MB prompt", func() {
		big := strings.Repeat("x", 10<<20)
		prompt := `{"1": {"class_type": "TestIntOut", "inputs": {"value": "` + big + `"}}}`
		entry := h.History(h.Queue(prompt, ""))
		Expect(entry["status"]).To(HaveKeyWithValue("status_str", "success"))
	})

	It("never blocks the worker on a websocket client that does not read", func() {
		// A raw client that never reads: its TCP buffers fill, then its
		// server-side queue; the server must drop it, not wait for it.
		url := strings.Replace(h.Base, "http://", "ws://", 1) + "/ws?clientId=stalled"
		stalled, _, err := websocket.Dial(GinkgoT().Context(), url, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { stalled.CloseNow() })
		ws := h.connect("reader")
		var b strings.Builder
		b.WriteString(`{"0": {"class_type": "TestConst", "inputs": {"value": 1}}`)
		for i := 1; i < 3000; i++ {
			fmt.Fprintf(&b, `, "%d": {"class_type": "TestAddInts", "inputs": {"a": ["%d", 0]}}`, i, i-1)
		}
		b.WriteString(`, "out": {"class_type": "TestIntOut", "inputs": {"value": ["2999", 0]}}}`)
		start := time.Now()
		id := h.Queue(b.String(), "stalled")
		h.History(id)
		Expect(time.Since(start)).To(BeNumerically("<", 30*time.Second))
		// Other clients are still served.
		Expect(comfyclient.Types(ws.Until(h.Queue(imageGraph("", "WHITE", 4), "reader")))).To(ContainElement("execution_success"))
	})
})
