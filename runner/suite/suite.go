package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/regen-dev/regen/harness/workflow"
)

// DefaultEnvironment is the environment class used when the suite names none.
const DefaultEnvironment = "cpu"

// The lanes (Suite.Lanes).
const (
	// LaneStrict: pass~ is a failure (a bit-exact class).
	LaneStrict = "strict"
	// LaneTolerant: pass~ passes (within the thresholds).
	LaneTolerant = "tolerant"
)

// Lane returns the lane of an environment class: the suite's lanes entry,
// else LaneTolerant.
func (s *Suite) Lane(class string) string {
	if l, ok := s.Lanes[class]; ok {
		return l
	}
	return LaneTolerant
}

// Suite is a decoded suite file.
type Suite struct {
	// Environment is the golden class this suite is judged against
	// (golden/<environment>/...), e.g. "cpu" or "cuda-h200".
	Environment string `yaml:"environment"`
	// Seeds are pinned into every seed widget; one case per seed.
	Seeds []uint64 `yaml:"seeds"`
	// Aliases map model file names used by workflows (as a real ComfyUI
	// names them) to the names the target serves.
	Aliases map[string]string `yaml:"aliases"`
	// Inputs are image files uploaded to the target's input folder before
	// replay (LoadImage reads them).
	Inputs []Input `yaml:"inputs"`
	// Thresholds override the comparison's default thresholds for every
	// workflow (keys are compare.Thresholds' JSON names).
	Thresholds Thresholds `yaml:"thresholds"`
	// ObjectInfo is a committed /object_info capture of the target, used
	// to convert UI-format workflows when the target's own is not at hand
	// (planning offline); a run converts with the live target's.
	ObjectInfo string `yaml:"object_info"`
	// Timeout bounds one case's replay, as a Go duration ("90s").
	Timeout string `yaml:"timeout"`
	// Workflows are the committed workflows, in report order.
	Workflows []Workflow `yaml:"workflows"`
	// Profiles are named alternatives to the top-level aliases, inputs and
	// thresholds (which form the default profile, used on regen-executor),
	// for targets that serve other models: a real ComfyUI with real
	// checkpoints. See SelectProfile.
	Profiles map[string]Profile `yaml:"profiles"`
	// Lanes say, per environment class of the target, whether pass~ (not
	// bit-identical, within every threshold) is allowed: LaneStrict (a
	// pass~ is a failure: the class is bit-exact, like cpu) or
	// LaneTolerant (pass~ passes, within the calibrated thresholds: GPU
	// and emulated classes). A class not listed is tolerant; --strict
	// makes any run strict. See Lane.
	Lanes map[string]string `yaml:"lanes"`

	// Dir is the directory of the suite file; relative paths resolve
	// against it. Not part of the YAML.
	Dir string `yaml:"-"`

	timeout time.Duration
}

// CaseTimeout is the suite's per-case replay timeout; 0 when unset.
func (s *Suite) CaseTimeout() time.Duration { return s.timeout }

// Workflow is one committed workflow.
type Workflow struct {
	// Name is the workflow's id in case ids and golden paths; defaults to
	// the file's base name without extension.
	Name string `yaml:"name"`
	// Path is the workflow file, relative to the suite file.
	Path string `yaml:"path"`
	// Origin says where a third-party workflow came from (documentation).
	Origin string `yaml:"origin"`
	// Labels select cases (Ginkgo --label-filter, reports).
	Labels []string `yaml:"labels"`
	// Seeds replace the suite's seeds for this workflow.
	Seeds []uint64 `yaml:"seeds"`
	// Overrides apply to every case of the workflow (before variants).
	Overrides Overrides `yaml:"overrides"`
	// Variants each add a case per seed; none means one default variant.
	Variants []Variant `yaml:"variants"`
	// Thresholds override the suite's thresholds for this workflow.
	Thresholds Thresholds `yaml:"thresholds"`
	// Skip, when set, is the reason the workflow is not replayed.
	Skip string `yaml:"skip"`
}

// The kinds of target a profile can be marked for (Profile.Target).
const (
	// TargetRegenExecutor is regen's own executor: its /system_stats
	// carries a "regen" section.
	TargetRegenExecutor = "regen-executor"
	// TargetComfyUI is any other ComfyUI-compatible server.
	TargetComfyUI = "comfyui"
)

// DefaultProfile is the name of the profile the suite's top-level aliases,
// inputs and thresholds form.
const DefaultProfile = "default"

// Profile says which model names, input files and thresholds a kind of
// target needs.
type Profile struct {
	// Target, when set, makes this the profile of every target of that
	// kind (TargetComfyUI or TargetRegenExecutor) that --profile does not
	// name otherwise; at most one profile per kind.
	Target string `yaml:"target"`
	// Description says what the profile is for (documentation).
	Description string `yaml:"description"`
	// Aliases map the workflows' model names to the target's. A profile
	// never inherits the default's: none means the workflows' own names.
	Aliases map[string]string `yaml:"aliases"`
	// Inputs are uploaded in addition to the default's (one with the same
	// name replaces the default's).
	Inputs []Input `yaml:"inputs"`
	// Thresholds overlay the default's.
	Thresholds Thresholds `yaml:"thresholds"`
	// SkipLabels skip every case carrying one of these labels (the
	// suite's, wf-<workflow> or a label read from the prompt, such as
	// gmm for regen's fixture checkpoints) on this profile's targets.
	SkipLabels []string `yaml:"skip_labels"`
}

// Selected is the profile a run uses, resolved against the default.
type Selected struct {
	// Name is the profile's name (DefaultProfile for the top-level fields).
	Name string
	// Reason says why it was picked, for the user and results.json.
	Reason     string
	Aliases    map[string]string
	Inputs     []Input
	Thresholds Thresholds
	SkipLabels []string
}

// ErrUnknownProfile is wrapped by SelectProfile's error for a name the
// suite does not define.
var ErrUnknownProfile = errors.New("unknown profile")

// ProfileNames returns DefaultProfile and the suite's profiles, sorted.
func (s *Suite) ProfileNames() []string {
	names := slices.Sorted(maps.Keys(s.Profiles))
	return append([]string{DefaultProfile}, names...)
}

// Default is the default profile: the suite's top-level fields.
func (s *Suite) Default() Selected {
	return Selected{Name: DefaultProfile, Aliases: s.Aliases, Inputs: s.Inputs, Thresholds: s.Thresholds}
}

// SelectProfile picks the profile of a run: the one named (--profile),
// else the one marked for the target's kind (TargetComfyUI or
// TargetRegenExecutor; "" when unknown, as when planning offline), else
// the default profile — on a target that is not regen-executor without
// its aliases, which name regen's fixture models.
func (s *Suite) SelectProfile(name, kind string) (Selected, error) {
	if name != "" {
		if name == DefaultProfile {
			d := s.Default()
			d.Reason = "named by --profile"
			return d, nil
		}
		p, ok := s.Profiles[name]
		if !ok {
			return Selected{}, fmt.Errorf("%w %q: the suite defines %s", ErrUnknownProfile, name, strings.Join(s.ProfileNames(), ", "))
		}
		return s.resolve(name, p, "named by --profile"), nil
	}
	if kind != "" {
		for _, n := range slices.Sorted(maps.Keys(s.Profiles)) {
			if p := s.Profiles[n]; p.Target == kind {
				return s.resolve(n, p, "the suite's profile for "+kind+" targets"), nil
			}
		}
	}
	d := s.Default()
	switch kind {
	case "":
		d.Reason = "no --profile"
	case TargetRegenExecutor:
		d.Reason = "the target is regen-executor"
	default:
		d.Aliases = nil
		d.Reason = "the target is " + kind + " and no profile is marked for it: the default profile without its aliases"
	}
	return d, nil
}

// resolve overlays profile p on the default profile.
func (s *Suite) resolve(name string, p Profile, reason string) Selected {
	out := Selected{Name: name, Reason: reason, Aliases: p.Aliases, Thresholds: s.Thresholds.Merge(p.Thresholds), SkipLabels: p.SkipLabels}
	for _, in := range s.Inputs {
		if !slices.ContainsFunc(p.Inputs, func(o Input) bool { return o.Name == in.Name }) {
			out.Inputs = append(out.Inputs, in)
		}
	}
	out.Inputs = append(out.Inputs, p.Inputs...)
	return out
}

// Input is an image uploaded before replay.
type Input struct {
	// Path is the file, relative to the suite file.
	Path string `yaml:"path"`
	// Name is the name it is uploaded as (what LoadImage's image widget
	// says); defaults to the file's base name.
	Name string `yaml:"name"`
}

// Variant is a named set of overrides.
type Variant struct {
	Name       string     `yaml:"name"`
	Labels     []string   `yaml:"labels"`
	Overrides  Overrides  `yaml:"overrides"`
	Thresholds Thresholds `yaml:"thresholds"`
}

// Overrides are widget values replaced in every node that has them (see
// workflow.Overrides). Nil / empty means "keep the workflow's value".
type Overrides = workflow.Overrides

// Thresholds are comparison threshold overrides keyed by the JSON field
// names of compare.Thresholds. They are kept as a map here so that the
// suite format does not have to change when the comparator grows a metric;
// Apply checks the names strictly.
type Thresholds map[string]float64

// Merge returns a new map: t overlaid with top.
func (t Thresholds) Merge(top Thresholds) Thresholds {
	if len(t) == 0 && len(top) == 0 {
		return nil
	}
	out := make(Thresholds, len(t)+len(top))
	maps.Copy(out, t)
	maps.Copy(out, top)
	return out
}

// Apply overlays t onto dst, a pointer to a JSON-tagged struct (a
// compare.Thresholds): dst is encoded to JSON, t's keys replace fields, and
// the result is decoded back with unknown fields rejected, so a key that
// names no threshold is an error.
func (t Thresholds) Apply(dst any) error {
	if len(t) == 0 {
		return nil
	}
	base, err := json.Marshal(dst)
	if err != nil {
		return fmt.Errorf("encode thresholds: %w", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(base, &m); err != nil {
		return fmt.Errorf("decode thresholds: %w", err)
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m[k] = t[k]
	}
	merged, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode thresholds: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("apply thresholds %v: %w", keys, err)
	}
	return nil
}

// Load reads and validates the suite file at path.
func Load(path string) (*Suite, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open suite: %w", err)
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("load suite %s: %w", path, err)
	}
	s.Dir = filepath.Dir(path)
	return s, nil
}

// Decode reads a suite from r strictly (unknown keys are errors), fills
// defaults and validates it. Dir is left empty.
func Decode(r io.Reader) (*Suite, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var s Suite
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("decode suite: empty file")
		}
		return nil, fmt.Errorf("decode suite: %w", err)
	}
	if err := s.normalise(); err != nil {
		return nil, err
	}
	return &s, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (s *Suite) normalise() error {
	if s.Environment == "" {
		s.Environment = DefaultEnvironment
	}
	if !nameRE.MatchString(s.Environment) {
		return fmt.Errorf("validate suite: environment %q: want letters, digits, '.', '_' or '-'", s.Environment)
	}
	if len(s.Seeds) == 0 {
		s.Seeds = []uint64{0}
	}
	for _, class := range slices.Sorted(maps.Keys(s.Lanes)) {
		if !nameRE.MatchString(class) {
			return fmt.Errorf("validate suite: lanes: class %q: want letters, digits, '.', '_' or '-'", class)
		}
		if l := s.Lanes[class]; l != LaneStrict && l != LaneTolerant {
			return fmt.Errorf("validate suite: lanes: %s: %q, want %s or %s", class, l, LaneStrict, LaneTolerant)
		}
	}
	if s.Timeout != "" {
		d, err := time.ParseDuration(s.Timeout)
		if err != nil || d <= 0 {
			return fmt.Errorf("validate suite: timeout %q: want a positive Go duration such as 90s", s.Timeout)
		}
		s.timeout = d
	}
	if len(s.Workflows) == 0 {
		return fmt.Errorf("validate suite: no workflows")
	}
	if err := normaliseInputs("", s.Inputs); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(s.Profiles)) {
		p := s.Profiles[name]
		if !nameRE.MatchString(name) || name == DefaultProfile {
			return fmt.Errorf("validate suite: profile %q: name must be letters, digits, '.', '_' or '-', and not %q", name, DefaultProfile)
		}
		if err := normaliseInputs("profile "+name+": ", p.Inputs); err != nil {
			return err
		}
		switch p.Target {
		case "", TargetComfyUI, TargetRegenExecutor:
		default:
			return fmt.Errorf("validate suite: profile %q: target %q: want %s or %s", name, p.Target, TargetComfyUI, TargetRegenExecutor)
		}
		if p.Target == "" {
			continue
		}
		for _, other := range slices.Sorted(maps.Keys(s.Profiles)) {
			if other < name && s.Profiles[other].Target == p.Target {
				return fmt.Errorf("validate suite: profiles %q and %q are both marked for %s targets", other, name, p.Target)
			}
		}
	}
	seen := map[string]bool{}
	for i := range s.Workflows {
		w := &s.Workflows[i]
		if w.Path == "" {
			return fmt.Errorf("validate suite: workflow #%d: path is required", i+1)
		}
		if w.Name == "" {
			w.Name = strings.TrimSuffix(filepath.Base(w.Path), filepath.Ext(w.Path))
		}
		if !nameRE.MatchString(w.Name) {
			return fmt.Errorf("validate suite: workflow %q: name must be letters, digits, '.', '_' or '-'", w.Name)
		}
		if seen[w.Name] {
			return fmt.Errorf("validate suite: workflow %q listed twice", w.Name)
		}
		seen[w.Name] = true
		vseen := map[string]bool{}
		for _, v := range w.Variants {
			if !nameRE.MatchString(v.Name) {
				return fmt.Errorf("validate suite: workflow %q: variant name %q must be letters, digits, '.', '_' or '-'", w.Name, v.Name)
			}
			if vseen[v.Name] {
				return fmt.Errorf("validate suite: workflow %q: variant %q listed twice", w.Name, v.Name)
			}
			vseen[v.Name] = true
		}
	}
	return nil
}

func normaliseInputs(where string, ins []Input) error {
	for i := range ins {
		in := &ins[i]
		if in.Path == "" {
			return fmt.Errorf("validate suite: %sinput #%d: path is required", where, i+1)
		}
		if in.Name == "" {
			in.Name = filepath.Base(in.Path)
		}
		if strings.ContainsAny(in.Name, "/\\") || strings.HasPrefix(in.Name, ".") {
			return fmt.Errorf("validate suite: %sinput %q: name must be a plain file name", where, in.Name)
		}
	}
	return nil
}

// Resolve returns path relative to the suite file's directory (absolute
// paths are returned unchanged).
func (s *Suite) Resolve(path string) string {
	if filepath.IsAbs(path) || s.Dir == "" {
		return path
	}
	return filepath.Join(s.Dir, path)
}
