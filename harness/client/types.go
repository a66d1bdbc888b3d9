package client

import (
	"encoding/json"
	"fmt"
)

// ImageRef names an output file on the server, as /view takes it.
type ImageRef struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

// NodeOutput is one node's UI output dict ({"images": [...], …}).
type NodeOutput struct {
	// Images are the "images" entries (SaveImage, PreviewImage).
	Images []ImageRef
	// Raw is the whole dict, for other keys (text, gifs, audio, …).
	Raw json.RawMessage
}

// UnmarshalJSON keeps the raw dict and decodes its images.
func (o *NodeOutput) UnmarshalJSON(data []byte) error {
	o.Raw = append(json.RawMessage(nil), data...)
	if string(data) == "null" {
		return nil
	}
	var v struct {
		Images []ImageRef `json:"images"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decode node output: %w", err)
	}
	o.Images = v.Images
	return nil
}

// MarshalJSON writes the raw dict.
func (o NodeOutput) MarshalJSON() ([]byte, error) {
	if o.Raw == nil {
		return json.Marshal(map[string]any{"images": o.Images})
	}
	return o.Raw, nil
}

// StatusMessage is one [event, data] pair of a history entry's status.
type StatusMessage struct {
	Event string
	Data  json.RawMessage
}

// UnmarshalJSON decodes [event, data].
func (m *StatusMessage) UnmarshalJSON(data []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(data, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("decode status message %s: want [event, data]", truncate(string(data), 80))
	}
	if err := json.Unmarshal(pair[0], &m.Event); err != nil {
		return fmt.Errorf("decode status message event: %w", err)
	}
	m.Data = pair[1]
	return nil
}

// MarshalJSON writes [event, data].
func (m StatusMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{m.Event, m.Data})
}

// Status is a history entry's status.
type Status struct {
	StatusStr string          `json:"status_str"`
	Completed bool            `json:"completed"`
	Messages  []StatusMessage `json:"messages"`
}

// HistoryEntry is one prompt's /history entry.
type HistoryEntry struct {
	// Prompt is the queue tuple [number, id, prompt, extra_data, outputs].
	Prompt  json.RawMessage            `json:"prompt"`
	Outputs map[string]NodeOutput      `json:"outputs"`
	Status  Status                     `json:"status"`
	Meta    map[string]json.RawMessage `json:"meta,omitempty"`
}

// message returns the data of the first status message named event.
func (h *HistoryEntry) message(event string) (json.RawMessage, bool) {
	for _, m := range h.Status.Messages {
		if m.Event == event {
			return m.Data, true
		}
	}
	return nil, false
}

// Device is one entry of /system_stats devices.
type Device struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	Index          int    `json:"index"`
	VRAMTotal      int64  `json:"vram_total"`
	VRAMFree       int64  `json:"vram_free"`
	TorchVRAMTotal int64  `json:"torch_vram_total"`
	TorchVRAMFree  int64  `json:"torch_vram_free"`
}

// SystemInfo is /system_stats "system".
type SystemInfo struct {
	OS             string `json:"os"`
	RAMTotal       int64  `json:"ram_total"`
	RAMFree        int64  `json:"ram_free"`
	ComfyUIVersion string `json:"comfyui_version"`
	PythonVersion  string `json:"python_version"`
	PytorchVersion string `json:"pytorch_version"`
}

// SystemStats is GET /system_stats.
type SystemStats struct {
	System  SystemInfo `json:"system"`
	Devices []Device   `json:"devices"`
	// Raw is the whole answer (for fingerprints and reports).
	Raw json.RawMessage `json:"-"`
}

// QueueItem is a queued or running prompt: [number, id, prompt, extra, outputs].
type QueueItem struct {
	Number   float64
	PromptID string
	Raw      json.RawMessage
}

// UnmarshalJSON decodes the queue tuple.
func (q *QueueItem) UnmarshalJSON(data []byte) error {
	var t []json.RawMessage
	if err := json.Unmarshal(data, &t); err != nil || len(t) < 2 {
		return fmt.Errorf("decode queue item: want [number, prompt_id, …]")
	}
	if err := json.Unmarshal(t[0], &q.Number); err != nil {
		return fmt.Errorf("decode queue item number: %w", err)
	}
	if err := json.Unmarshal(t[1], &q.PromptID); err != nil {
		return fmt.Errorf("decode queue item prompt_id: %w", err)
	}
	q.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// QueueState is GET /queue.
type QueueState struct {
	Running []QueueItem `json:"queue_running"`
	Pending []QueueItem `json:"queue_pending"`
}

// UploadOptions are /upload/image's form fields.
type UploadOptions struct {
	// Type is "input" (default), "temp" or "output".
	Type      string
	Subfolder string
	Overwrite bool
}
