package plan

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/runner/suite"
)

// Case is one replay: a workflow, a variant, a seed.
type Case struct {
	ID       string
	Workflow string
	Variant  string
	Seed     uint64
	// Source is the workflow file.
	Source string
	// Format is the workflow file's format (api or ui).
	Format workflow.Format
	// Labels select the case: the suite's labels for the workflow and the
	// variant, plus wf-<workflow>, sampler-<name>, scheduler-<name>,
	// ckpt-<checkpoint> and the checkpoint mode (gmm, els) when it is a
	// regen fixture.
	Labels []string
	// Prompt is the API prompt to submit: converted, aliased, overridden
	// and pinned.
	Prompt workflow.Prompt
	// UI is the original editor graph of a UI-format workflow (sent as
	// extra_pnginfo.workflow, as the ComfyUI frontend does); nil for API.
	UI []byte
	// Thresholds are the merged threshold overrides (suite < workflow <
	// variant).
	Thresholds suite.Thresholds
	// Timeout bounds the replay; 0 means the runner's default.
	Timeout time.Duration
	// Skip is the suite's reason not to run the case.
	Skip string
	// Err is why the case could not be planned (missing file, conversion
	// or validation failure): the runner reports it as an error verdict.
	Err error
}

// File returns the base name of the case's golden files for output image
// index of node: <variant|default>.seed-<n>.<node>-<index>, with anything
// outside [A-Za-z0-9._-] in the node id replaced by '_'.
func (c Case) File(node string, index int) string {
	v := c.Variant
	if v == "" {
		v = "default"
	}
	return fmt.Sprintf("%s.seed-%d.%s-%d", v, c.Seed, safe(node), index)
}

var unsafeRE = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func safe(s string) string { return unsafeRE.ReplaceAllString(s, "_") }

// Options tune Build.
type Options struct {
	// ObjectInfo is the target's /object_info: UI workflows are converted
	// with it and prompts validated against it. When nil, the suite's
	// committed capture (suite.ObjectInfo) is used for conversion and
	// prompts are not validated.
	ObjectInfo workflow.ObjectInfo
	// Seeds replace every seed list of the suite (--seeds).
	Seeds []uint64
	// Filter keeps only cases whose id matches (--filter).
	Filter *regexp.Regexp
	// Labels, when set, keep only cases carrying at least one of them
	// (--label): the suite's labels, the workflow's wf-<name>, and those
	// read from the prompt.
	Labels []string
	// Profile gives the model aliases and suite-level thresholds of the
	// run (suite.SelectProfile); nil: the suite's default profile.
	Profile *suite.Selected
}

// Build expands s into cases, in suite order: workflows, then variants,
// then seeds. It cannot fail: a problem with one workflow (an unreadable
// file, a UI workflow and no readable object_info to convert it with)
// becomes that workflow's cases' Err, so the other workflows still run.
func Build(s *suite.Suite, opts Options) []Case {
	prof := s.Default()
	var hints *workflow.AliasProfile // a missing model's hint: the run's profile, as regen workflow validate --profile gives it
	if opts.Profile != nil {
		prof = *opts.Profile
		hints = &workflow.AliasProfile{Name: prof.Name, Reason: prof.Reason, Aliases: prof.Aliases, Applied: true}
	}
	info := opts.ObjectInfo
	validate := info != nil
	var infoErr error
	loadedCapture := false
	var cases []Case
	for _, w := range s.Workflows {
		seeds := s.Seeds
		if len(w.Seeds) > 0 {
			seeds = w.Seeds
		}
		if len(opts.Seeds) > 0 {
			seeds = opts.Seeds
		}
		variants := w.Variants
		if len(variants) == 0 {
			variants = []suite.Variant{{}}
		}
		var wf *workflow.Workflow
		var loadErr error
		selected := false
		for _, v := range variants {
			for _, seed := range seeds {
				if opts.Filter == nil || opts.Filter.MatchString(workflow.CaseID(w.Name, v.Name, seed)) {
					selected = true
				}
			}
		}
		if !selected {
			continue
		}
		if w.Skip == "" {
			wf, loadErr = workflow.Load(s.Resolve(w.Path))
			if loadErr == nil && wf.Format == workflow.FormatUI && info == nil && !loadedCapture {
				loadedCapture = true
				info, infoErr = loadCapture(s)
			}
		}
		for _, v := range variants {
			for _, seed := range seeds {
				id := workflow.CaseID(w.Name, v.Name, seed)
				if opts.Filter != nil && !opts.Filter.MatchString(id) {
					continue
				}
				c := Case{
					ID: id, Workflow: w.Name, Variant: v.Name, Seed: seed,
					Source:     s.Resolve(w.Path),
					Thresholds: prof.Thresholds.Merge(w.Thresholds).Merge(v.Thresholds),
					Timeout:    s.CaseTimeout(),
					Skip:       w.Skip,
				}
				c.Labels = append(append([]string{}, w.Labels...), v.Labels...)
				c.Labels = append(c.Labels, "wf-"+w.Name)
				if c.Skip == "" {
					if loadErr != nil {
						c.Err = loadErr
					} else {
						c.Format = wf.Format
						if wf.Format == workflow.FormatUI {
							c.UI = wf.Raw
						}
						c.Prompt, c.Err = prepare(wf, info, infoErr, prof.Aliases, hints, w.Overrides.Merge(v.Overrides), seed, validate)
					}
				}
				c.Labels = cleanLabels(append(c.Labels, promptLabels(c.Prompt)...))
				if c.Err != nil {
					c.Prompt = nil
				}
				if i := slices.IndexFunc(prof.SkipLabels, func(l string) bool { return slices.Contains(c.Labels, l) }); i >= 0 && c.Skip == "" {
					// The workflow needs what this profile's targets lack
					// (regen's fixture models on a real ComfyUI): skipped,
					// not an error, whatever planning it said.
					c.Skip = fmt.Sprintf("profile %s skips label %s", prof.Name, prof.SkipLabels[i])
					c.Prompt, c.Err = nil, nil
				}
				if !hasAnyLabel(c.Labels, opts.Labels) {
					continue
				}
				cases = append(cases, c)
			}
		}
	}
	return cases
}

// hasAnyLabel reports whether labels holds one of want (or want is empty).
func hasAnyLabel(labels, want []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if slices.Contains(labels, w) {
			return true
		}
	}
	return false
}

func loadCapture(s *suite.Suite) (workflow.ObjectInfo, error) {
	if s.ObjectInfo == "" {
		return nil, errors.New("a UI-format workflow needs the target's /object_info, and the suite names no object_info capture")
	}
	info, err := workflow.LoadObjectInfo(s.Resolve(s.ObjectInfo))
	if err != nil {
		return nil, fmt.Errorf("load object_info capture: %w", err)
	}
	return info, nil
}

// prepare turns a loaded workflow into the prompt of one case. A prompt that
// the target would reject is returned with the validation error.
// hints, when set, is the profile a missing model's reason speaks of.
func prepare(wf *workflow.Workflow, info workflow.ObjectInfo, infoErr error, aliases map[string]string,
	hints *workflow.AliasProfile, ov suite.Overrides, seed uint64, validate bool) (workflow.Prompt, error) {
	if wf.Format == workflow.FormatUI && info == nil {
		return nil, fmt.Errorf("convert %s: %w", wf.Name, infoErr)
	}
	p, err := wf.Prompt(info)
	if err != nil {
		return nil, fmt.Errorf("convert %s: %w", wf.Name, err)
	}
	p, _ = workflow.ApplyAliases(p, aliases, info)
	if !ov.IsZero() {
		if p, _, err = ov.Apply(p); err != nil {
			return nil, err
		}
	}
	p, res, err := workflow.Pin(p, seed, info)
	if err != nil {
		return nil, err
	}
	if len(res.Pinned) == 0 && len(res.Linked) > 0 {
		return nil, fmt.Errorf("pin seed: every seed input is linked (%v); the case would not be reproducible", res.Linked)
	}
	if validate {
		// Without aliases (a profile for a real ComfyUI) a missing model
		// is the server's to provide, not an alias to add.
		opts := workflow.ValidateOptions{NoAliases: len(aliases) == 0, Profile: hints}
		if err := workflow.ValidateWith(p, info, opts); err != nil {
			return p, err // p: its labels still select (and skip) the case
		}
	}
	return p, nil
}

// promptLabels derives labels from what the prompt uses.
func promptLabels(p workflow.Prompt) []string {
	var out []string
	for _, id := range p.IDs() {
		n := p[id]
		for _, in := range []struct{ name, prefix string }{
			{"sampler_name", "sampler-"}, {"scheduler", "scheduler-"}, {"ckpt_name", "ckpt-"},
		} {
			s, ok := n.Inputs[in.name].(string)
			if !ok {
				continue
			}
			base := strings.TrimSuffix(filepath.Base(s), filepath.Ext(s))
			out = append(out, in.prefix+base)
			if in.name == "ckpt_name" {
				switch {
				case strings.Contains(base, "regen-gmm"):
					out = append(out, "gmm")
				case strings.Contains(base, "regen-els"):
					out = append(out, "els")
				}
			}
		}
		out = append(out, "node-"+n.ClassType)
	}
	return out
}

// cleanLabels sorts, de-duplicates and makes labels valid for Ginkgo (no
// &|!,()/ and no leading ':').
func cleanLabels(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range in {
		l = strings.TrimSpace(strings.Map(func(r rune) rune {
			if strings.ContainsRune("&|!,()/: ", r) {
				return '-'
			}
			return r
		}, l))
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
