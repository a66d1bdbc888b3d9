// Package comfyclient is the raw HTTP and websocket client of the suites that
// speak ComfyUI's protocol to a server (suites/conformance against any
// ComfyUI-compatible URL, suites/executor against regen-executor with its
// test nodes). They check bytes and messages on the wire, so this is not
// harness/client: every call returns the status and body as received, and a
// transport error fails the current Ginkgo spec.
package comfyclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// Server is a ComfyUI-compatible server at Base (http://host:port).
type Server struct {
	Base string
	// Wait bounds how long History and WS.Until wait for a prompt
	// (default 60 s).
	Wait time.Duration
	// Poll is how often History asks /history (default 5 ms).
	Poll time.Duration
}

func (s *Server) wait() time.Duration {
	if s.Wait > 0 {
		return s.Wait
	}
	return 60 * time.Second
}

func (s *Server) poll() time.Duration {
	if s.Poll > 0 {
		return s.Poll
	}
	return 5 * time.Millisecond
}

// Do sends one request and returns the status, the headers and the body.
func (s *Server) Do(method, path, ctype string, body io.Reader) (int, http.Header, []byte) {
	ginkgo.GinkgoHelper()
	req, err := http.NewRequest(method, s.Base+path, body)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return resp.StatusCode, resp.Header, b
}

// Get GETs path.
func (s *Server) Get(path string) (int, []byte) {
	ginkgo.GinkgoHelper()
	code, _, b := s.Do(http.MethodGet, path, "", nil)
	return code, b
}

// GetJSON GETs path, expects 200 and decodes the body into v.
func (s *Server) GetJSON(path string, v any) {
	ginkgo.GinkgoHelper()
	code, b := s.Get(path)
	gomega.Expect(code).To(gomega.Equal(http.StatusOK), "GET %s: %s", path, b)
	gomega.Expect(json.Unmarshal(b, v)).To(gomega.Succeed(), "GET %s: %s", path, b)
}

// Post POSTs body as application/json: a string or []byte as it is, any
// other value marshalled.
func (s *Server) Post(path string, body any) (int, []byte) {
	ginkgo.GinkgoHelper()
	var b []byte
	switch x := body.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		b, err = json.Marshal(x)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
	}
	code, _, resp := s.Do(http.MethodPost, path, "application/json", bytes.NewReader(b))
	return code, resp
}

// Submit POSTs {"prompt": prompt, "client_id": clientID, extra...} to
// /prompt; prompt and each extra ("key": value) are JSON text, and an
// empty clientID sends none.
func (s *Server) Submit(prompt, clientID string, extra ...string) (int, []byte) {
	ginkgo.GinkgoHelper()
	body := `{"prompt": ` + prompt
	if clientID != "" {
		body += `, "client_id": "` + clientID + `"`
	}
	for _, e := range extra {
		body += ", " + e
	}
	return s.Post("/prompt", body+"}")
}

// Queue submits prompt, expects 200 and returns the prompt id.
func (s *Server) Queue(prompt, clientID string, extra ...string) string {
	ginkgo.GinkgoHelper()
	code, b := s.Submit(prompt, clientID, extra...)
	gomega.Expect(code).To(gomega.Equal(http.StatusOK), string(b))
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	gomega.Expect(json.Unmarshal(b, &r)).To(gomega.Succeed())
	gomega.Expect(r.PromptID).NotTo(gomega.BeEmpty())
	return r.PromptID
}

// History waits for the history entry of id and returns it.
func (s *Server) History(id string) map[string]any {
	ginkgo.GinkgoHelper()
	var entry map[string]any
	gomega.Eventually(func(g gomega.Gomega) {
		code, b := s.Get("/history/" + id)
		g.Expect(code).To(gomega.Equal(http.StatusOK))
		var m map[string]map[string]any
		g.Expect(json.Unmarshal(b, &m)).To(gomega.Succeed())
		entry = m[id]
		g.Expect(entry).NotTo(gomega.BeNil())
	}, s.wait(), s.poll()).Should(gomega.Succeed(), "prompt %s never reached history", id)
	return entry
}

// Upload posts data as /upload/image's "image" part named name, with the
// other form fields, and returns the status and the decoded answer.
func (s *Server) Upload(name string, data []byte, fields map[string]string) (int, map[string]any) {
	ginkgo.GinkgoHelper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		gomega.Expect(mw.WriteField(k, v)).To(gomega.Succeed())
	}
	fw, err := mw.CreateFormFile("image", name)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	_, _ = fw.Write(data)
	gomega.Expect(mw.Close()).To(gomega.Succeed())
	code, _, b := s.Do(http.MethodPost, "/upload/image", mw.FormDataContentType(), &buf)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return code, m
}

// View fetches an image reference ({filename, subfolder, type}) from /view,
// extra appended to the query ("&channel=a"), and expects 200.
func (s *Server) View(ref map[string]any, extra string) []byte {
	ginkgo.GinkgoHelper()
	q := url.Values{}
	q.Set("filename", fmt.Sprint(ref["filename"]))
	q.Set("subfolder", fmt.Sprint(ref["subfolder"]))
	q.Set("type", fmt.Sprint(ref["type"]))
	code, b := s.Get("/view?" + q.Encode() + extra)
	gomega.Expect(code).To(gomega.Equal(http.StatusOK), "/view %v: %s", ref, b)
	return b
}
