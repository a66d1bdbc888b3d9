package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
)

// Primitive input types. Link types are any other upper-case string
// ("MODEL", "LATENT", ...); "A,B" is a union and "*" matches anything.
const (
	TypeInt     = "INT"
	TypeFloat   = "FLOAT"
	TypeString  = "STRING"
	TypeBoolean = "BOOLEAN"
	TypeAny     = "*"

	TypeImage        = "IMAGE"
	TypeMask         = "MASK"
	TypeLatent       = "LATENT"
	TypeConditioning = "CONDITIONING"
	TypeModel        = "MODEL"
	TypeCLIP         = "CLIP"
	TypeVAE          = "VAE"
	TypeControlNet   = "CONTROL_NET"
)

// MaxResolution is ComfyUI's MAX_RESOLUTION.
const MaxResolution = 16384

// Input describes one input of a node. Exactly one of Type or a combo
// (Combo / ComboFolder) describes its type: a combo is serialised in
// /object_info as a V1 COMBO (a JSON list of options).
type Input struct {
	Name string
	// Type is INT, FLOAT, STRING, BOOLEAN or a link type. Empty for combos.
	Type string
	// Combo is a static list of allowed values.
	Combo []string
	// ComboFolder names a folder whose files are the allowed values:
	// "checkpoints", "loras", "vae" (under --models) or "input" (--input,
	// image files only). Resolved by the engine at validation and in
	// /object_info.
	ComboFolder string
	// ComboExtra are values listed after ComboFolder's files (VAELoader's
	// "pixel_space", which names no file).
	ComboExtra []string

	Optional bool
	Default  any      // omitted from /object_info when nil
	Min      *float64 // INT/FLOAT bounds (checked at validation)
	Max      *float64
	Step     *float64
	Round    *float64
	Tooltip  string
	// IntOptions are the options ("default", "min", "max", "step") of a
	// FLOAT that ComfyUI declares with an integer literal, so /object_info
	// and validation messages write them as integers (SDTurboScheduler's
	// denoise min=0: "min": 0, "smaller than min of 0").
	IntOptions []string

	Multiline            bool // STRING
	DynamicPrompts       bool // STRING
	ControlAfterGenerate bool // INT seeds
	ImageUpload          bool // LoadImage
	ForceInput           bool // render as a socket, not a widget
	// Advanced: the frontend hides the widget under the node's advanced
	// inputs ({"advanced": true} in /object_info, ComfyUI 0.33.0).
	Advanced bool
	// NoRound: a FLOAT the frontend must not round ({"round": false}, as
	// ComfyUI's V3 inputs declare round=False); Round, when set, wins.
	NoRound bool
}

// F returns a pointer to v, for Input.Min/Max/Step/Round.
func F(v float64) *float64 { return &v }

// IsCombo reports whether the input is a COMBO.
func (in Input) IsCombo() bool { return in.Combo != nil || in.ComboFolder != "" }

// Hidden inputs a node may ask for.
const (
	HiddenPrompt       = "PROMPT"
	HiddenExtraPNGInfo = "EXTRA_PNGINFO"
	HiddenUniqueID     = "UNIQUE_ID"
)

// HiddenInput is a hidden input: Name as the node sees it ("prompt"), Kind one
// of the Hidden* constants.
type HiddenInput struct {
	Name string
	Kind string
}

// Output is one output slot.
type Output struct {
	Type    string
	Name    string // defaults to Type
	IsList  bool   // OUTPUT_IS_LIST
	Tooltip string
}

// Spec is everything /object_info says about a node class and everything
// validation needs.
type Spec struct {
	Name        string // class_type
	DisplayName string
	Category    string
	Description string
	Module      string // python_module in /object_info; "nodes" for built-ins

	Inputs  []Input // required first, then optional, each in widget order
	Hidden  []HiddenInput
	Outputs []Output

	OutputNode    bool
	InputIsList   bool // INPUT_IS_LIST: Execute receives []any per input
	NotIdempotent bool // NOT_IDEMPOTENT: the node id is part of the cache key
	Deprecated    bool
	Experimental  bool

	// SearchAliases are the names the frontend's node search also finds
	// the class by (SEARCH_ALIASES; /object_info search_aliases, ComfyUI
	// 0.33.0). EssentialsCategory is its place in the frontend's essentials
	// panel (ESSENTIALS_CATEGORY), "" for none.
	SearchAliases      []string
	EssentialsCategory string

	// V3: ComfyUI defines the class with its V3 schema (comfy_api
	// io.ComfyNode, the comfy_extras classes). /object_info then describes
	// it as ComfyUI 0.33.0's get_v1_info does: every input as [type,
	// options], a COMBO as ["COMBO", {"multiselect": false, "options": [...]}],
	// and every NodeInfoV1 field (null where unset); validation errors name
	// a COMBO's type "COMBO".
	V3 bool
}

// Input returns the named input.
func (s Spec) Input(name string) (Input, bool) {
	for _, in := range s.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

// Node is a node class. Implementations must be safe for concurrent use by
// distinct prompts only if they keep no state; the engine runs one prompt at a
// time, so per-instance state (a loaded LoRA) is allowed.
type Node interface {
	Spec() Spec
	// Execute runs the node once. in maps input names to values: constants
	// already coerced (int64 or uint64 for INT, float64, string, bool) and
	// linked values as produced by upstream nodes. Optional inputs that are
	// absent are absent from the map. Hidden inputs are in env. For an
	// InputIsList node every value is a []any.
	Execute(ctx context.Context, env *Env, in map[string]any) (Result, error)
}

// IsChanger is ComfyUI's IS_CHANGED: called before execution with the node's
// constant inputs only. Its result becomes part of the cache signature.
// Returning always=true means "never equal" (ComfyUI's float('NaN')).
type IsChanger interface {
	IsChanged(env *Env, constants map[string]any) (key string, always bool, err error)
}

// InputValidator is ComfyUI's VALIDATE_INPUTS. The named inputs skip the
// engine's min/max and COMBO checks; ValidateInputs is called with the
// constant values instead and returns a non-nil error to reject them
// (custom_validation_failed). If SkipsTypeCheck is true, link type checks are
// skipped for this node too (VALIDATE_INPUTS taking input_types).
type InputValidator interface {
	ValidatedInputs() []string
	SkipsTypeCheck() bool
	ValidateInputs(env *Env, constants map[string]any) error
}

// Result is what one execution of a node returns.
type Result struct {
	// Outputs holds one value per output slot. For an OutputIsList slot the
	// value is a []any whose elements are concatenated into the output list.
	Outputs []any
	// UI is the node's UI dict, e.g. {"images": [ImageRef...]}; nil for none.
	UI map[string][]any
}

// ImageRef is an entry of a UI "images" list.
type ImageRef struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"` // output, temp, input
}

// Dirs are the executor's folders.
type Dirs struct {
	Models string // contains checkpoints/, loras/, vae/
	Input  string
	Output string
	Temp   string
}

// KV is one extra_pnginfo entry, in the order the client sent them.
type KV struct {
	Key   string
	Value json.RawMessage
}

// Binary websocket event types (ComfyUI protocol.py BinaryEventTypes).
const (
	BinaryPreviewImage = 1
	BinaryText         = 3
	// Image formats for BinaryPreviewImage.
	FormatJPEG = 1
	FormatPNG  = 2
)

// Env is the environment of one node execution. The engine fills it; nodes
// treat it as read-only.
type Env struct {
	PromptID string
	NodeID   string // the node's id in the prompt (UNIQUE_ID)
	Dirs     Dirs

	// Prompt is the whole API prompt as JSON (hidden PROMPT).
	Prompt json.RawMessage
	// ExtraPNGInfo is extra_data.extra_pnginfo, in key order as received.
	ExtraPNGInfo []KV
	// DisableMetadata mirrors --disable-metadata.
	DisableMetadata bool

	Logger *slog.Logger

	// Progress reports sampler progress (value of max). It returns a non-nil
	// error (wrapping ErrInterrupted) when the prompt was interrupted; the
	// node must stop and return that error.
	Progress func(value, max int) error
	// SendBinary sends a binary websocket frame to the prompt's client:
	// eventType, then payload (for BinaryPreviewImage the payload starts with
	// the 4-byte big-endian format code).
	SendBinary func(eventType uint32, payload []byte)
	// Resources gives access to shared, long-lived objects (loaded
	// checkpoints, the compute backend). May be nil in unit tests.
	Resources Resources
}

// Resources is implemented by the executor and handed to nodes.
type Resources interface {
	// Load returns the object cached under key, calling load once to make
	// it. Objects survive between prompts until POST /free unload_models.
	Load(key string, load func() (any, error)) (any, error)
	// Backend returns the compute backend (a backend.Backend); typed as any
	// so that this package stays a leaf.
	Backend() any
}

// ErrInterrupted is returned (wrapped) when a prompt is interrupted.
var ErrInterrupted = fmt.Errorf("processing interrupted")

// CheckProgress calls env.Progress when it is set.
func (e *Env) CheckProgress(value, max int) error {
	if e == nil || e.Progress == nil {
		return nil
	}
	return e.Progress(value, max)
}

// Log returns the env's logger or slog.Default().
func (e *Env) Log() *slog.Logger {
	if e == nil || e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}

// Registry is an explicit set of node classes.
type Registry struct {
	nodes map[string]Node
}

// NewRegistry returns a registry holding the given nodes.
func NewRegistry(nodes ...Node) (*Registry, error) {
	r := &Registry{nodes: map[string]Node{}}
	for _, n := range nodes {
		if err := r.Add(n); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Add registers n; a duplicate class name is an error.
func (r *Registry) Add(n Node) error {
	name := n.Spec().Name
	if name == "" {
		return fmt.Errorf("register node: empty class name")
	}
	if _, dup := r.nodes[name]; dup {
		return fmt.Errorf("register node %s: already registered", name)
	}
	r.nodes[name] = n
	return nil
}

// Get returns the node class named name.
func (r *Registry) Get(name string) (Node, bool) {
	n, ok := r.nodes[name]
	return n, ok
}

// Names returns the registered class names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.nodes))
	for n := range r.nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
