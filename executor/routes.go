package executor

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	add := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+path, h)
		mux.HandleFunc(method+" /api"+path, h)
	}
	add("GET /ws", s.handleWS)
	add("POST /prompt", s.postPrompt)
	add("GET /prompt", s.getPrompt)
	add("GET /history", s.getHistory)
	add("GET /history/{id}", s.getHistoryItem)
	add("POST /history", s.postHistory)
	add("GET /queue", s.getQueue)
	add("POST /queue", s.postQueue)
	add("POST /interrupt", s.postInterrupt)
	add("POST /free", s.postFree)
	add("GET /view", s.getView)
	add("GET /object_info", s.getObjectInfo)
	add("GET /object_info/{class}", s.getObjectInfoClass)
	add("GET /system_stats", s.getSystemStats)
	add("GET /features", func(w http.ResponseWriter, _ *http.Request) { writeJSONResp(w, http.StatusOK, s.featureFlags()) })
	add("GET /models", s.getModels)
	add("GET /models/{folder}", s.getModelFolder)
	add("GET /embeddings", func(w http.ResponseWriter, _ *http.Request) { writeJSONResp(w, http.StatusOK, []string{}) })
	add("GET /extensions", func(w http.ResponseWriter, _ *http.Request) { writeJSONResp(w, http.StatusOK, []string{}) })
	add("POST /upload/image", s.postUploadImage)
	add("GET /view_metadata/{folder}", s.getViewMetadata)
	metricsHandler := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	add("GET /metrics", metricsHandler.ServeHTTP)
	add("GET /healthz", healthz)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "regen-executor %s: a ComfyUI-compatible API (POST /prompt, GET /ws, /history, /view, /object_info)\n", s.opts.Version)
	})
	return mux
}

// MetricsHandler serves GET /metrics and /healthz alone, for a separate
// metrics port.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", healthz)
	return mux
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

func writeJSONResp(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// errorBody is the body of a refused request: {"error": e, "node_errors": {}}.
func errorBody(e *ErrorObj) ordered {
	return ordered{{"error", e}, {"node_errors", &NodeErrors{}}}
}

// requestError writes a 400-class {"error": ..., "node_errors": {}}.
func requestError(w http.ResponseWriter, code int, typ, msg, details string) {
	writeJSONResp(w, code, errorBody(&ErrorObj{Type: typ, Message: msg, Details: details}))
}

// readBody reads a size-limited body; it answers 413 or 400 itself and
// returns ok=false then.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			requestError(w, http.StatusRequestEntityTooLarge, "request_too_large",
				"Request body too large", fmt.Sprintf("the limit is %d bytes", limit))
			return nil, false
		}
		requestError(w, http.StatusBadRequest, "invalid_request", "Cannot read the request body", err.Error())
		return nil, false
	}
	return body, true
}

// decodeControl decodes a small optional JSON body into v; an empty body is
// fine.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r, maxControlBody)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		requestError(w, http.StatusBadRequest, "invalid_json", "Cannot parse the request body as JSON", err.Error())
		return false
	}
	return true
}

type promptRequest struct {
	Prompt                  json.RawMessage `json:"prompt"`
	ClientID                *string         `json:"client_id"`
	PromptID                *string         `json:"prompt_id"`
	ExtraData               json.RawMessage `json:"extra_data"`
	Number                  *json.Number    `json:"number"`
	Front                   bool            `json:"front"`
	PartialExecutionTargets []string        `json:"partial_execution_targets"`
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) postPrompt(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxPromptBody)
	if !ok {
		return
	}
	resp, code := s.submit(body)
	if code != http.StatusOK {
		s.metrics.rejected.Inc()
	}
	writeJSONResp(w, code, resp)
}

// badRequest is a 400 answer of submit with an empty node_errors.
func badRequest(typ, msg, details string) (any, int) {
	return errorBody(&ErrorObj{Type: typ, Message: msg, Details: details}), http.StatusBadRequest
}

// submit decodes, validates and queues a POST /prompt body. It returns the
// response body and status code.
func (s *Server) submit(body []byte) (any, int) {
	var req promptRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if !isObject(body) {
		return badRequest("invalid_json", "Cannot parse the request body as a JSON object",
			"the body must be a JSON object such as {\"prompt\": {...}}")
	}
	if err := dec.Decode(&req); err != nil {
		return badRequest("invalid_json", "Cannot parse the request body as JSON", err.Error())
	}
	if len(req.Prompt) == 0 || bytes.Equal(bytes.TrimSpace(req.Prompt), []byte("null")) {
		return badRequest("no_prompt", "No prompt provided", "No prompt provided")
	}
	var numberJS json.RawMessage
	var number float64
	if req.Number != nil {
		f, err := strconv.ParseFloat(req.Number.String(), 64)
		if err != nil {
			return badRequest("invalid_json", "number must be a number", req.Number.String())
		}
		number = f
		numberJS = json.RawMessage(pyRepr(f))
	} else {
		n := s.queue.nextNumber()
		if req.Front {
			n = -n
		}
		number = float64(n)
		numberJS = json.RawMessage(strconv.FormatInt(n, 10))
	}
	g, perr := decodeGraph(req.Prompt)
	if perr != nil {
		return errorBody(perr), http.StatusBadRequest
	}
	extra, err := decodeExtraData(req.ExtraData)
	if err != nil {
		return badRequest("invalid_json", "extra_data must be a JSON object", err.Error())
	}
	clientID := ""
	if req.ClientID != nil {
		clientID = *req.ClientID
		b, _ := json.Marshal(clientID)
		extra.set("client_id", b)
	}
	id := newUUID()
	if req.PromptID != nil && *req.PromptID != "" {
		id = *req.PromptID
	}
	v := s.newValidator(nil)
	p, verr, nodeErrors := v.validate(g, req.PartialExecutionTargets)
	if verr != nil {
		s.log.Info("prompt rejected", "prompt_id", id, "type", verr.Type, "message", verr.Message, "details", verr.Details)
		return ordered{{"error", verr}, {"node_errors", nodeErrors}}, http.StatusBadRequest
	}
	extraJS, err := extra.MarshalJSON()
	if err != nil {
		return badRequest("invalid_json", "extra_data is not valid JSON", err.Error())
	}
	it := &item{
		number: number, numberJS: numberJS, id: id, clientID: clientID, plan: p,
		prompt: encodeGraph(g, p), extra: extraJS, outputs: p.outputs, pngInfo: extra.pngInfo(),
	}
	s.queue.put(it)
	s.log.Info("prompt queued", "prompt_id", id, "number", string(numberJS), "nodes", len(p.nodes), "outputs", len(p.outputs))
	return ordered{{"prompt_id", id}, {"number", numberJS}, {"node_errors", nodeErrors}}, http.StatusOK
}

func (s *Server) getPrompt(w http.ResponseWriter, _ *http.Request) {
	writeJSONResp(w, http.StatusOK, s.statusData())
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	maxItems, offset := -1, -1
	for _, p := range []struct {
		name string
		dst  *int
	}{{"max_items", &maxItems}, {"offset", &offset}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				requestError(w, http.StatusBadRequest, "invalid_request", "Invalid "+p.name, err.Error())
				return
			}
			*p.dst = n
		}
	}
	if maxItems < -1 {
		maxItems = -1
	}
	entries := s.hist.list(maxItems, offset)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(&b, e.id)
		b.WriteByte(':')
		b.Write(e.data)
	}
	b.WriteByte('}')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

func (s *Server) getHistoryItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	data, ok := s.hist.get(id)
	if !ok {
		writeJSONResp(w, http.StatusOK, ordered{})
		return
	}
	writeJSONResp(w, http.StatusOK, ordered{{id, data}})
}

type clearDelete struct {
	Clear  bool     `json:"clear"`
	Delete []string `json:"delete"`
}

func (s *Server) postHistory(w http.ResponseWriter, r *http.Request) {
	var req clearDelete
	if !decodeControl(w, r, &req) {
		return
	}
	s.hist.remove(req.Clear, req.Delete)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) getQueue(w http.ResponseWriter, _ *http.Request) {
	running, pending := s.queue.snapshot()
	writeJSONResp(w, http.StatusOK, ordered{{"queue_running", running}, {"queue_pending", pending}})
}

func (s *Server) postQueue(w http.ResponseWriter, r *http.Request) {
	var req clearDelete
	if !decodeControl(w, r, &req) {
		return
	}
	s.queue.remove(req.Clear, req.Delete)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) postInterrupt(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PromptID string `json:"prompt_id"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if s.interrupt(req.PromptID) {
		s.log.Info("interrupt requested", "prompt_id", req.PromptID)
	} else if req.PromptID != "" {
		s.log.Info("prompt is not running; interrupt skipped", "prompt_id", req.PromptID)
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) postFree(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UnloadModels bool `json:"unload_models"`
		FreeMemory   bool `json:"free_memory"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	s.requestFree(req.UnloadModels, req.FreeMemory)
	w.WriteHeader(http.StatusOK)
}
