package suite

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, s *Suite)
	}{
		{
			name: "defaults",
			yaml: "workflows:\n  - path: workflows/a.json\n",
			check: func(t *testing.T, s *Suite) {
				if s.Environment != "cpu" {
					t.Errorf("environment = %q, want cpu", s.Environment)
				}
				if len(s.Seeds) != 1 || s.Seeds[0] != 0 {
					t.Errorf("seeds = %v, want [0]", s.Seeds)
				}
				if s.Workflows[0].Name != "a" {
					t.Errorf("name = %q, want a", s.Workflows[0].Name)
				}
			},
		},
		{
			name: "lanes",
			yaml: "lanes: {cpu: strict, cuda-emulated-nondet: tolerant}\nworkflows:\n  - path: workflows/a.json\n",
			check: func(t *testing.T, s *Suite) {
				for class, want := range map[string]string{"cpu": LaneStrict, "cuda-emulated-nondet": LaneTolerant, "cuda-h200": LaneTolerant} {
					if got := s.Lane(class); got != want {
						t.Errorf("Lane(%s) = %q, want %q", class, got, want)
					}
				}
			},
		},
		{
			name:    "bad lane",
			yaml:    "lanes: {cpu: exact}\nworkflows:\n  - path: workflows/a.json\n",
			wantErr: `lanes: cpu: "exact", want strict or tolerant`,
		},
		{
			name: "full",
			yaml: `environment: cuda-h200
seeds: [1, 2]
timeout: 90s
aliases: {v1-5-pruned-emaonly.safetensors: regen-gmm.safetensors}
inputs: [{path: inputs/scene-256.png}, {path: inputs/scene-256.png, name: example.png}]
thresholds: {colour_de: 1.5}
workflows:
  - name: txt
    path: w/txt.json
    labels: [gmm]
    seeds: [7]
    overrides: {steps: 4, width: 64}
    variants:
      - name: euler
        overrides: {sampler_name: euler, cfg: 2.5}
    thresholds: {colour_de: 2}
  - path: w/skip.json
    skip: too slow
`,
			check: func(t *testing.T, s *Suite) {
				w := s.Workflows[0]
				if s.Environment != "cuda-h200" || len(s.Seeds) != 2 || s.Aliases["v1-5-pruned-emaonly.safetensors"] != "regen-gmm.safetensors" {
					t.Errorf("suite = %+v", s)
				}
				if *w.Overrides.Steps != 4 || *w.Variants[0].Overrides.CFG != 2.5 || w.Variants[0].Overrides.SamplerName != "euler" {
					t.Errorf("overrides = %+v / %+v", w.Overrides, w.Variants[0].Overrides)
				}
				if got := s.Thresholds.Merge(w.Thresholds)["colour_de"]; got != 2 {
					t.Errorf("merged threshold = %v, want 2", got)
				}
				if s.CaseTimeout().Seconds() != 90 {
					t.Errorf("timeout = %v", s.CaseTimeout())
				}
				if s.Inputs[0].Name != "scene-256.png" || s.Inputs[1].Name != "example.png" {
					t.Errorf("inputs = %+v", s.Inputs)
				}
				if s.Workflows[1].Skip != "too slow" {
					t.Errorf("skip = %q", s.Workflows[1].Skip)
				}
			},
		},
		{name: "unknown key", yaml: "workflows:\n  - path: a.json\n    tresholds: {x: 1}\n", wantErr: "tresholds"},
		{name: "unknown top key", yaml: "seed: [1]\nworkflows:\n  - path: a.json\n", wantErr: "seed"},
		{name: "no workflows", yaml: "seeds: [1]\n", wantErr: "no workflows"},
		{name: "no path", yaml: "workflows:\n  - name: a\n", wantErr: "path is required"},
		{name: "duplicate", yaml: "workflows:\n  - path: a.json\n  - path: x/a.json\n", wantErr: "listed twice"},
		{name: "bad variant", yaml: "workflows:\n  - path: a.json\n    variants: [{name: 'a/b'}]\n", wantErr: "variant name"},
		{name: "bad input name", yaml: "inputs: [{path: a.png, name: ../x.png}]\nworkflows:\n  - path: a.json\n", wantErr: "plain file name"},
		{name: "bad timeout", yaml: "timeout: soon\nworkflows:\n  - path: a.json\n", wantErr: "timeout"},
		{name: "empty", yaml: "", wantErr: "empty file"},
		{name: "profile unknown key", yaml: "profiles: {p: {alias: {}}}\nworkflows:\n  - path: a.json\n", wantErr: "alias"},
		{name: "profile named default", yaml: "profiles: {default: {}}\nworkflows:\n  - path: a.json\n", wantErr: `profile "default"`},
		{name: "profile bad target", yaml: "profiles: {p: {target: comfy}}\nworkflows:\n  - path: a.json\n", wantErr: `target "comfy"`},
		{name: "two profiles for one kind", yaml: "profiles: {a: {target: comfyui}, b: {target: comfyui}}\nworkflows:\n  - path: a.json\n", wantErr: `"a" and "b" are both marked`},
		{name: "profile bad input name", yaml: "profiles: {p: {inputs: [{path: a.png, name: .x.png}]}}\nworkflows:\n  - path: a.json\n", wantErr: "profile p: input"},
		{
			name: "profiles",
			yaml: `aliases: {a.safetensors: regen-gmm.safetensors}
inputs: [{path: in/a.png}, {path: in/a.png, name: example.png}]
thresholds: {colour_de: 1.5}
profiles:
  comfyui-sd15:
    target: comfyui
    description: real SD 1.5 checkpoints
    inputs: [{path: in/real.png, name: example.png}]
    thresholds: {window: 4}
workflows:
  - path: a.json
`,
			check: func(t *testing.T, s *Suite) {
				p := s.Profiles["comfyui-sd15"]
				if p.Target != TargetComfyUI || p.Inputs[0].Name != "example.png" || p.Thresholds["window"] != 4 {
					t.Errorf("profile = %+v", p)
				}
				sel, err := s.SelectProfile("", TargetComfyUI)
				if err != nil {
					t.Fatal(err)
				}
				if sel.Name != "comfyui-sd15" || len(sel.Aliases) != 0 {
					t.Errorf("selected = %+v", sel)
				}
				if len(sel.Inputs) != 2 || sel.Inputs[0].Name != "a.png" || sel.Inputs[1].Path != "in/real.png" {
					t.Errorf("inputs = %+v, want the default's a.png and the profile's example.png", sel.Inputs)
				}
				if sel.Thresholds["colour_de"] != 1.5 || sel.Thresholds["window"] != 4 {
					t.Errorf("thresholds = %v", sel.Thresholds)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Decode(strings.NewReader(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			tt.check(t, s)
		})
	}
}

func TestSelectProfile(t *testing.T) {
	t.Parallel()
	s, err := Decode(strings.NewReader(`aliases: {a.safetensors: regen-gmm.safetensors}
profiles:
  comfyui-sd15: {target: comfyui}
  gpu-box: {target: regen-executor, aliases: {a.safetensors: regen-els.safetensors}}
  plain: {}
workflows:
  - path: a.json
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, profile, kind string
		want                string // profile name
		wantAlias           string // what a.safetensors maps to ("" none)
		wantErr             string
	}{
		{name: "offline", want: "default", wantAlias: "regen-gmm.safetensors"},
		{name: "comfyui target", kind: TargetComfyUI, want: "comfyui-sd15"},
		{name: "regen-executor target with a marked profile", kind: TargetRegenExecutor, want: "gpu-box", wantAlias: "regen-els.safetensors"},
		{name: "named wins over the kind", profile: "plain", kind: TargetComfyUI, want: "plain"},
		{name: "default by name", profile: "default", kind: TargetComfyUI, want: "default", wantAlias: "regen-gmm.safetensors"},
		{name: "unknown", profile: "comfyui-sdxl", wantErr: `unknown profile "comfyui-sdxl": the suite defines default, comfyui-sd15, gpu-box, plain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.SelectProfile(tt.profile, tt.kind)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrUnknownProfile) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.want || got.Aliases["a.safetensors"] != tt.wantAlias || got.Reason == "" {
				t.Errorf("got %+v, want %s mapping a.safetensors to %q", got, tt.want, tt.wantAlias)
			}
		})
	}
}

func TestThresholdsApply(t *testing.T) {
	t.Parallel()
	type th struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	tests := []struct {
		name    string
		t       Thresholds
		want    th
		wantErr bool
	}{
		{name: "none", t: nil, want: th{A: 1, B: 2}},
		{name: "one", t: Thresholds{"b": 5}, want: th{A: 1, B: 5}},
		{name: "unknown", t: Thresholds{"c": 5}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := th{A: 1, B: 2}
			err := tt.t.Apply(&got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOverridesMerge(t *testing.T) {
	t.Parallel()
	four, eight := 4, 8
	base := Overrides{SamplerName: "euler", Steps: &four}
	got := base.Merge(Overrides{Scheduler: "karras", Steps: &eight})
	if got.SamplerName != "euler" || got.Scheduler != "karras" || *got.Steps != 8 {
		t.Errorf("merge = %+v", got)
	}
	if !(Overrides{}).IsZero() || got.IsZero() {
		t.Error("IsZero wrong")
	}
}
