package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/regen-dev/regen/executor/engine"
	"github.com/regen-dev/regen/executor/internal/pyjson"
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
func errorBody(e *engine.ErrorObj) ordered {
	return ordered{{"error", e}, {"node_errors", &engine.NodeErrors{}}}
}

// requestError writes a 400-class {"error": ..., "node_errors": {}}.
func requestError(w http.ResponseWriter, code int, typ, msg, details string) {
	writeJSONResp(w, code, errorBody(&engine.ErrorObj{Type: typ, Message: msg, Details: details}))
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

func (s *Server) postPrompt(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxPromptBody)
	if !ok {
		return
	}
	sub := s.eng.Submit(body)
	code := http.StatusOK
	if !sub.Queued() {
		code = http.StatusBadRequest
		s.metrics.rejected.Inc()
	}
	writeJSONResp(w, code, sub)
}

func (s *Server) getPrompt(w http.ResponseWriter, _ *http.Request) {
	writeJSONResp(w, http.StatusOK, s.eng.Status())
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
		pyjson.Write(&b, e.id)
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
	running, pending := s.eng.Queue()
	writeJSONResp(w, http.StatusOK, ordered{{"queue_running", running}, {"queue_pending", pending}})
}

func (s *Server) postQueue(w http.ResponseWriter, r *http.Request) {
	var req clearDelete
	if !decodeControl(w, r, &req) {
		return
	}
	s.eng.RemoveQueued(req.Clear, req.Delete)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) postInterrupt(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PromptID string `json:"prompt_id"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if s.eng.Interrupt(req.PromptID) {
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
	s.eng.Free(req.UnloadModels, req.FreeMemory)
	w.WriteHeader(http.StatusOK)
}
