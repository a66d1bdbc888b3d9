package conformance

// Server kinds a deviation applies to.
const (
	// KindRegen is regen-executor (its /system_stats has a "regen" object).
	KindRegen = "regen-executor"
	// KindComfyUI is ComfyUI itself (any other server).
	KindComfyUI = "comfyui"
)

// Deviation is one behaviour in which a server knowingly differs from
// ComfyUI 0.33.0, the version the suite follows.
type Deviation struct {
	// ID names the behaviour; specs refer to it.
	ID string
	// Kinds are the server kinds that differ.
	Kinds []string
	// Why the server differs, and what it does instead.
	Why string
}

// Deviations is the one list of known differences. A spec that checks one
// of these behaviours is skipped on the servers listed, with the reason.
var Deviations = []Deviation{
	{
		ID:    "python-exceptions",
		Kinds: []string{KindRegen},
		Why: "regen-executor's nodes are Go: an execution_error carries the fields and the node, inputs " +
			"and outputs ComfyUI sends, but its own exception_type (RuntimeError, …) and message, and no traceback",
	},
	{
		ID:    "system-stats-python",
		Kinds: []string{KindRegen},
		Why: "regen-executor has no Python or PyTorch: python_version is the Go version and " +
			"pytorch_version is empty",
	},
	{
		ID:    "features-values",
		Kinds: []string{KindRegen},
		Why: "regen-executor sends every /features key ComfyUI 0.33.0 sends, but false for the " +
			"features it does not have (model type tags, ComfyUI-Manager v4, node replacements, assets)",
	},
}

// deviation returns the deviation with id, or false.
func deviation(id string) (Deviation, bool) {
	for _, d := range Deviations {
		if d.ID == id {
			return d, true
		}
	}
	return Deviation{}, false
}

// Differs reports whether a server of kind differs in behaviour id, and why.
func (d Deviation) Differs(kind string) bool {
	for _, k := range d.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}
