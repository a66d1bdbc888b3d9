package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Format is a workflow file's format.
type Format string

// The two workflow formats.
const (
	FormatAPI Format = "api" // {id: {class_type, inputs}}, what /prompt accepts
	FormatUI  Format = "ui"  // the editor's litegraph graph (nodes, links)
)

// Workflow is a loaded workflow file.
type Workflow struct {
	// Name is the workflow's id: the file's base name without extension.
	Name string
	// Format says which of API and UI is set.
	Format Format
	// API is the prompt of an API-format file.
	API Prompt
	// UI is the graph of a UI-format file.
	UI *Graph
	// Raw is the file's bytes (for a UI file, what extra_pnginfo.workflow
	// carries).
	Raw json.RawMessage
}

// Load reads and parses the workflow file at path.
func Load(path string) (*Workflow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read workflow: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	w, err := Parse(name, data)
	if err != nil {
		return nil, fmt.Errorf("load workflow %s: %w", path, err)
	}
	return w, nil
}

// Parse detects data's format and decodes it. An API prompt may also be
// wrapped as a POST /prompt body ({"prompt": {...}, ...}).
func Parse(name string, data []byte) (*Workflow, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("decode workflow: want a JSON object: %w", err)
	}
	w := &Workflow{Name: name, Raw: bytes.Clone(data)}
	switch {
	case top["nodes"] != nil:
		g, err := parseGraph(data)
		if err != nil {
			return nil, err
		}
		w.Format, w.UI = FormatUI, g
	case isAPI(top):
		p, err := ParsePrompt(data)
		if err != nil {
			return nil, err
		}
		w.Format, w.API = FormatAPI, p
	case top["prompt"] != nil && isAPIRaw(top["prompt"]):
		p, err := ParsePrompt(top["prompt"])
		if err != nil {
			return nil, err
		}
		w.Format, w.API = FormatAPI, p
	default:
		return nil, fmt.Errorf("unrecognised workflow format: neither an API prompt " +
			"(node objects with class_type) nor a UI graph (nodes and links); " +
			"export the workflow from ComfyUI with Save or Export (API)")
	}
	return w, nil
}

func isAPIRaw(data json.RawMessage) bool {
	var top map[string]json.RawMessage
	return json.Unmarshal(data, &top) == nil && isAPI(top)
}

// isAPI reports whether every value is an object with a class_type.
func isAPI(top map[string]json.RawMessage) bool {
	if len(top) == 0 {
		return false
	}
	for _, v := range top {
		var n struct {
			ClassType *string `json:"class_type"`
		}
		if json.Unmarshal(v, &n) != nil || n.ClassType == nil {
			return false
		}
	}
	return true
}

// Prompt returns the workflow as an API prompt: an API file's prompt (a
// copy), or a UI graph converted with info.
func (w *Workflow) Prompt(info ObjectInfo) (Prompt, error) {
	if w.Format == FormatAPI {
		return w.API.Clone(), nil
	}
	return Convert(w.UI, info)
}
