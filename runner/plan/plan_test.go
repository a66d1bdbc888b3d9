package plan

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/runner/suite"
)

func loadSuite(t *testing.T) *suite.Suite {
	t.Helper()
	s, err := suite.Load("testdata/suite.yaml")
	if err != nil {
		t.Fatalf("load suite: %v", err)
	}
	return s
}

func ids(cs []Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestBuildIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{
			name: "all, in suite order",
			want: []string{
				"a[euler]/seed=1", "a[euler]/seed=2", "a[karras]/seed=1", "a[karras]/seed=2",
				"ui/seed=7", "missing/seed=1", "missing/seed=2", "skipped/seed=1", "skipped/seed=2",
			},
		},
		{
			name: "seeds flag replaces every seed list",
			opts: Options{Seeds: []uint64{9}},
			want: []string{"a[euler]/seed=9", "a[karras]/seed=9", "ui/seed=9", "missing/seed=9", "skipped/seed=9"},
		},
		{
			name: "filter",
			opts: Options{Filter: regexp.MustCompile(`^a\[karras\]|^ui/`)},
			want: []string{"a[karras]/seed=1", "a[karras]/seed=2", "ui/seed=7"},
		},
		{
			name: "filter matching nothing",
			opts: Options{Filter: regexp.MustCompile(`^nope`)},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := Build(loadSuite(t), tt.opts)
			if got := ids(cs); !slices.Equal(got, tt.want) {
				t.Errorf("ids =\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

func input(t *testing.T, p workflow.Prompt, node, name string) string {
	t.Helper()
	n, ok := p[node]
	if !ok {
		t.Fatalf("no node %s", node)
	}
	b, err := json.Marshal(n.Inputs[name])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(string(b), `"`)
}

func TestBuildCases(t *testing.T) {
	t.Parallel()
	cs := Build(loadSuite(t), Options{})
	byID := map[string]Case{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	tests := []struct {
		name  string
		id    string
		check func(t *testing.T, c Case)
	}{
		{name: "variant overrides over workflow overrides, seed pinned", id: "a[euler]/seed=2", check: func(t *testing.T, c Case) {
			if c.Err != nil {
				t.Fatal(c.Err)
			}
			for in, want := range map[string]string{"seed": "2", "steps": "3", "sampler_name": "euler_ancestral", "scheduler": "normal"} {
				if got := input(t, c.Prompt, "5", in); got != want {
					t.Errorf("%s = %s, want %s", in, got, want)
				}
			}
			if got := input(t, c.Prompt, "4", "width"); got != "64" {
				t.Errorf("width = %s, want 64", got)
			}
			if c.Thresholds["window"] != 4 || c.Thresholds["window_ratio"] != 0.5 {
				t.Errorf("thresholds = %v", c.Thresholds)
			}
			if c.File("5", 0) != "euler.seed-2.5-0" {
				t.Errorf("file = %s", c.File("5", 0))
			}
			for _, l := range []string{"smoke", "wf-a", "sampler-euler_ancestral", "scheduler-normal", "gmm", "ckpt-regen-gmm", "node-KSampler"} {
				if !slices.Contains(c.Labels, l) {
					t.Errorf("labels %v lack %s", c.Labels, l)
				}
			}
		}},
		{name: "the plan does not leak between variants", id: "a[karras]/seed=1", check: func(t *testing.T, c Case) {
			if got := input(t, c.Prompt, "5", "sampler_name"); got != "euler" {
				t.Errorf("sampler = %s, want the workflow's euler", got)
			}
			if got := input(t, c.Prompt, "4", "width"); got != "128" {
				t.Errorf("width = %s, want 128", got)
			}
		}},
		{name: "UI converted with the capture, alias applied", id: "ui/seed=7", check: func(t *testing.T, c Case) {
			if c.Err != nil {
				t.Fatal(c.Err)
			}
			if c.Format != workflow.FormatUI || len(c.UI) == 0 {
				t.Errorf("format = %s, ui %d bytes", c.Format, len(c.UI))
			}
			if got := input(t, c.Prompt, "4", "ckpt_name"); got != "regen-gmm.safetensors" {
				t.Errorf("ckpt = %s", got)
			}
			if got := input(t, c.Prompt, "3", "seed"); got != "7" {
				t.Errorf("seed = %s", got)
			}
			if c.File("9", 1) != "default.seed-7.9-1" {
				t.Errorf("file = %s", c.File("9", 1))
			}
		}},
		{name: "missing file is a case error", id: "missing/seed=1", check: func(t *testing.T, c Case) {
			if c.Err == nil || !strings.Contains(c.Err.Error(), "missing.json") {
				t.Errorf("err = %v", c.Err)
			}
		}},
		{name: "skip keeps its reason and loads nothing", id: "skipped/seed=2", check: func(t *testing.T, c Case) {
			if c.Skip != "too slow" || c.Err != nil || c.Prompt != nil {
				t.Errorf("case = %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ok := byID[tt.id]
			if !ok {
				t.Fatalf("no case %s in %v", tt.id, ids(cs))
			}
			tt.check(t, c)
		})
	}
}

func TestBuildUIWithoutObjectInfo(t *testing.T) {
	t.Parallel()
	s := loadSuite(t)
	s.ObjectInfo = ""
	cs := Build(s, Options{Filter: regexp.MustCompile(`^ui/`)})
	if len(cs) != 1 || cs[0].Err == nil || !strings.Contains(cs[0].Err.Error(), "object_info") {
		t.Fatalf("cases = %+v", cs)
	}
}

func TestBuildOverrideMatchingNothing(t *testing.T) {
	t.Parallel()
	s := loadSuite(t)
	// img2img has no empty latent: a width override matches nothing,
	// which must fail the case rather than silently replay the original.
	s.Workflows[0].Path = "wf/img.json"
	cs := Build(s, Options{Filter: regexp.MustCompile(`^a\[`)})
	for _, c := range cs {
		wantErr := c.Variant == "euler" // the variant that sets width
		if (c.Err != nil) != wantErr || (wantErr && !strings.Contains(c.Err.Error(), "width")) {
			t.Errorf("%s: err = %v, want error %v", c.ID, c.Err, wantErr)
		}
	}
}

func TestBuildProfiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, profile, kind string
		wantCkpt            string
		wantWindow          float64 // the ui case's merged window threshold
	}{
		{name: "offline, no profile: the default", wantCkpt: "regen-gmm.safetensors", wantWindow: 8},
		{name: "regen-executor: the default", kind: suite.TargetRegenExecutor, wantCkpt: "regen-gmm.safetensors", wantWindow: 8},
		{name: "comfyui: the profile marked for it, no aliases", kind: suite.TargetComfyUI, wantCkpt: "v1-5-pruned-emaonly-fp16.safetensors", wantWindow: 6},
		{name: "named profile on regen-executor", profile: "comfyui-sd15", kind: suite.TargetRegenExecutor, wantCkpt: "v1-5-pruned-emaonly-fp16.safetensors", wantWindow: 6},
		{name: "named profile with its own aliases", profile: "renamed", kind: suite.TargetComfyUI, wantCkpt: "other.safetensors", wantWindow: 8},
		{name: "default named on comfyui keeps the aliases", profile: "default", kind: suite.TargetComfyUI, wantCkpt: "regen-gmm.safetensors", wantWindow: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSuite(t)
			prof, err := s.SelectProfile(tt.profile, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			cs := Build(s, Options{Filter: regexp.MustCompile(`^ui/`), Profile: &prof})
			if len(cs) != 1 || cs[0].Err != nil {
				t.Fatalf("cases = %+v", cs)
			}
			if got := input(t, cs[0].Prompt, "4", "ckpt_name"); got != tt.wantCkpt {
				t.Errorf("profile %s: ckpt = %s, want %s", prof.Name, got, tt.wantCkpt)
			}
			if got := cs[0].Thresholds["window"]; got != tt.wantWindow {
				t.Errorf("profile %s: window = %v, want %v", prof.Name, got, tt.wantWindow)
			}
		})
	}
}

func TestBuildComfyUIWithoutProfile(t *testing.T) {
	t.Parallel()
	s := loadSuite(t)
	s.Profiles = nil
	prof, err := s.SelectProfile("", suite.TargetComfyUI)
	if err != nil {
		t.Fatal(err)
	}
	if prof.Name != suite.DefaultProfile || len(prof.Aliases) != 0 || !strings.Contains(prof.Reason, "without its aliases") {
		t.Errorf("profile = %+v", prof)
	}
	cs := Build(s, Options{Filter: regexp.MustCompile(`^ui/`), Profile: &prof})
	if len(cs) != 1 {
		t.Fatalf("cases = %+v", cs)
	}
	if got := input(t, cs[0].Prompt, "4", "ckpt_name"); got != "v1-5-pruned-emaonly-fp16.safetensors" {
		t.Errorf("ckpt = %s, want the workflow's own name", got)
	}
}

func TestBuildProfileSkipLabels(t *testing.T) {
	t.Parallel()
	s := loadSuite(t)
	info, err := workflow.LoadObjectInfo(s.Resolve(s.ObjectInfo))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"default", "skipping"} {
		prof, err := s.SelectProfile(name, suite.TargetComfyUI)
		if err != nil {
			t.Fatal(err)
		}
		// Planned against a live /object_info (a real ComfyUI's) that lacks
		// regen's fixture checkpoint: without the skip, the aliased ui case
		// is an error.
		byID := map[string]Case{}
		for _, c := range Build(s, Options{ObjectInfo: info, Profile: &prof}) {
			byID[c.ID] = c
		}
		ui, a := byID["ui/seed=7"], byID["a[euler]/seed=1"]
		if name == "default" {
			if ui.Err == nil || ui.Skip != "" || ui.Prompt != nil || !slices.Contains(ui.Labels, "gmm") {
				t.Errorf("%s: ui case = err %v skip %q labels %v, want a validation error that keeps its labels", name, ui.Err, ui.Skip, ui.Labels)
			}
			if a.Skip != "" {
				t.Errorf("%s: a skipped: %q", name, a.Skip)
			}
			continue
		}
		if ui.Skip != "profile skipping skips label gmm" || ui.Err != nil || ui.Prompt != nil {
			t.Errorf("%s: ui case = skip %q err %v", name, ui.Skip, ui.Err)
		}
		if a.Skip != "profile skipping skips label smoke" {
			t.Errorf("%s: a case skip = %q", name, a.Skip)
		}
		if sk := byID["skipped/seed=1"]; sk.Skip != "too slow" {
			t.Errorf("%s: the suite's own skip reason was replaced: %q", name, sk.Skip)
		}
	}
}

// TestBuildMissingModelHint: planned against a server that lacks the
// checkpoint, the run's profile is named as regen workflow validate
// --profile names it: with aliases, the alias that led to the missing name;
// without any (a real ComfyUI's profile), the server lacks the file and
// what it lists. Without a profile the hint stays the generic one.
func TestBuildMissingModelHint(t *testing.T) {
	t.Parallel()
	s := loadSuite(t)
	b, err := os.ReadFile(s.Resolve(s.ObjectInfo))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	// The server lists one checkpoint, not the workflow's.
	raw["CheckpointLoaderSimple"].(map[string]any)["input"].(map[string]any)["required"].(map[string]any)["ckpt_name"] =
		[]any{[]any{"sd_xl_turbo_1.0_fp16.safetensors"}}
	b, err = json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := workflow.ParseObjectInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	noProfiles := loadSuite(t)
	noProfiles.Profiles = nil
	tests := []struct {
		name      string
		s         *suite.Suite
		noProfile bool
		want, not string
	}{
		{name: "default on comfyui: the aliases apply", s: loadSuite(t),
			want: `"regen-gmm.safetensors" not in the target's list (1 choices) [value_not_in_list]; the suite's profile "default" (named by --profile) maps "v1-5-pruned-emaonly-fp16.safetensors" to it: point that alias at a name the target lists`,
			not:  "the server has no such file"},
		{name: "comfyui without aliases: the server lacks the file", s: noProfiles,
			want: `"v1-5-pruned-emaonly-fp16.safetensors" not in the target's list (1 choices) [value_not_in_list]; the server has no such file in its models/checkpoints folder (it lists "sd_xl_turbo_1.0_fp16.safetensors"); no alias applies: the suite's profile "default" (the target is comfyui`,
			not:  "model alias"},
		{name: "no profile: the generic hint", s: loadSuite(t), noProfile: true, want: "with a model alias", not: "the suite's profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind, name := suite.TargetComfyUI, ""
			if tt.s.Profiles != nil {
				name = "default" // keeps the aliases on a comfyui target
			}
			prof, err := tt.s.SelectProfile(name, kind)
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Filter: regexp.MustCompile(`^ui/`), ObjectInfo: info, Profile: &prof}
			if tt.noProfile {
				opts.Profile = nil
			}
			cs := Build(tt.s, opts)
			if len(cs) != 1 || cs[0].Err == nil {
				t.Fatalf("cases = %+v, want one with a validation error", cs)
			}
			if msg := cs[0].Err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, tt.not) {
				t.Errorf("profile %s: error %q\nwant %q, not %q", prof.Name, msg, tt.want, tt.not)
			}
		})
	}
}
