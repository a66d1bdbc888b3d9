package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/regen-dev/regen/executor/internal/pyjson"
)

// request is a prompt request: the body of ComfyUI's POST /prompt.
type request struct {
	Prompt                  json.RawMessage `json:"prompt"`
	ClientID                *string         `json:"client_id"`
	PromptID                *string         `json:"prompt_id"`
	ExtraData               json.RawMessage `json:"extra_data"`
	Number                  *json.Number    `json:"number"`
	Front                   bool            `json:"front"`
	PartialExecutionTargets []string        `json:"partial_execution_targets"`
}

// Submission is the answer to a prompt request: queued (Error is nil) or
// rejected.
type Submission struct {
	PromptID string
	// Number is the queue number as ComfyUI reports it: an int for the
	// counter, a float when the request gave one.
	Number     json.RawMessage
	Error      *ErrorObj
	NodeErrors *NodeErrors
}

// Queued reports whether the prompt was queued.
func (s Submission) Queued() bool { return s.Error == nil }

// MarshalJSON writes ComfyUI's POST /prompt response: {"prompt_id",
// "number", "node_errors"} when queued, {"error", "node_errors"} when not.
func (s Submission) MarshalJSON() ([]byte, error) {
	ne := s.NodeErrors
	if ne == nil {
		ne = &NodeErrors{}
	}
	if s.Error != nil {
		return ordered{{"error", s.Error}, {"node_errors", ne}}.MarshalJSON()
	}
	return ordered{{"prompt_id", s.PromptID}, {"number", s.Number}, {"node_errors", ne}}.MarshalJSON()
}

func rejected(typ, msg, details string) Submission {
	return Submission{Error: &ErrorObj{Type: typ, Message: msg, Details: details}}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Submit decodes, validates and queues a prompt request, the JSON body of
// ComfyUI's POST /prompt ({"prompt": {...}, "client_id", "prompt_id",
// "extra_data", "number", "front", "partial_execution_targets"}).
func (en *Engine) Submit(body []byte) Submission {
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if !pyjson.IsObject(body) {
		return rejected("invalid_json", "Cannot parse the request body as a JSON object",
			"the body must be a JSON object such as {\"prompt\": {...}}")
	}
	if err := dec.Decode(&req); err != nil {
		return rejected("invalid_json", "Cannot parse the request body as JSON", err.Error())
	}
	if len(req.Prompt) == 0 || bytes.Equal(bytes.TrimSpace(req.Prompt), []byte("null")) {
		return rejected("no_prompt", "No prompt provided", "No prompt provided")
	}
	var numberJS json.RawMessage
	var number float64
	if req.Number != nil {
		f, err := strconv.ParseFloat(req.Number.String(), 64)
		if err != nil {
			return rejected("invalid_json", "number must be a number", req.Number.String())
		}
		number = f
		numberJS = json.RawMessage(pyjson.Repr(f))
	} else {
		n := en.queue.nextNumber()
		if req.Front {
			n = -n
		}
		number = float64(n)
		numberJS = json.RawMessage(strconv.FormatInt(n, 10))
	}
	g, perr := decodeGraph(req.Prompt)
	if perr != nil {
		return Submission{Error: perr}
	}
	extra, err := decodeExtraData(req.ExtraData)
	if err != nil {
		return rejected("invalid_json", "extra_data must be a JSON object", err.Error())
	}
	clientID := ""
	if req.ClientID != nil {
		clientID = *req.ClientID
		b, _ := json.Marshal(clientID)
		extra.set("client_id", b)
	}
	id := newUUID()
	if req.PromptID != nil {
		// ComfyUI 0.33.0 (comfy_execution/jobs.py validate_job_id): a
		// client's prompt_id is a UUID in canonical form, or refused.
		if !canonicalUUID(*req.PromptID) {
			return Submission{Error: &ErrorObj{Type: "invalid_prompt_id", Message: "prompt_id must be a valid UUID",
				Details: "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one"}}
		}
		id = *req.PromptID
	}
	v := en.newValidator(nil)
	p, verr, nodeErrors := v.validate(g, req.PartialExecutionTargets)
	if verr != nil {
		en.log.Info("prompt rejected", "prompt_id", id, "type", verr.Type, "message", verr.Message, "details", verr.Details)
		return Submission{Error: verr, NodeErrors: nodeErrors}
	}
	// ComfyUI 0.33.0 (server.py post_prompt) stamps every queued prompt's
	// extra_data with create_time, milliseconds since the epoch.
	extra.set("create_time", json.RawMessage(strconv.FormatInt(nowMillis(), 10)))
	extraJS, err := extra.MarshalJSON()
	if err != nil {
		return rejected("invalid_json", "extra_data is not valid JSON", err.Error())
	}
	it := &item{
		number: number, numberJS: numberJS, id: id, clientID: clientID, plan: p,
		prompt: encodeGraph(g, p, nil), extra: extraJS, outputs: p.outputs, pngInfo: extra.pngInfo(),
	}
	en.queue.put(it)
	en.log.Info("prompt queued", "prompt_id", id, "number", string(numberJS), "nodes", len(p.nodes), "outputs", len(p.outputs))
	return Submission{PromptID: id, Number: numberJS, NodeErrors: nodeErrors}
}

// canonicalUUID reports whether s is a UUID in Python's str(uuid.UUID(s))
// form: 8-4-4-4-12 lowercase hex digits.
func canonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
