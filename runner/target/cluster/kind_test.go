package cluster

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestKindConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, node string
		noCNI      bool
	}{
		{"kind's own node image", "", false},
		{"another node image", "kindest/node:v1.37.2", false},
		{"regen's node image", RegenNodeImagePrefix + "v1.37.2-r1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var cfg struct {
				Kind       string `json:"kind"`
				APIVersion string `json:"apiVersion"`
				Nodes      []struct {
					Role string `json:"role"`
				} `json:"nodes"`
				Networking struct {
					DisableDefaultCNI bool `json:"disableDefaultCNI"`
				} `json:"networking"`
			}
			if err := yaml.UnmarshalStrict([]byte(KindConfig(tc.node)), &cfg); err != nil {
				t.Fatalf("KindConfig(%q) does not parse: %v\n%s", tc.node, err, KindConfig(tc.node))
			}
			if cfg.Kind != "Cluster" || cfg.APIVersion != "kind.x-k8s.io/v1alpha4" || len(cfg.Nodes) != 1 || cfg.Nodes[0].Role != "control-plane" {
				t.Errorf("KindConfig(%q) = %+v; want one control-plane node of a kind.x-k8s.io/v1alpha4 Cluster", tc.node, cfg)
			}
			if cfg.Networking.DisableDefaultCNI != tc.noCNI {
				t.Errorf("KindConfig(%q): disableDefaultCNI = %v, want %v", tc.node, cfg.Networking.DisableDefaultCNI, tc.noCNI)
			}
		})
	}
}

// TestPreflightKindSaysWhy: the kind plan carries the reason the run prints
// and where kind comes from ($REGEN_KIND first, then PATH, else go install).
func TestPreflightKindSaysWhy(t *testing.T) {
	tests := []struct {
		name   string
		want   Mode
		path   []string
		regenK string
		files  []string
		kind   string
		whyHas []string
		errHas []string
	}{
		{"auto, kind on PATH", ModeAuto, []string{"docker", "kind"}, "", nil, "/usr/bin/kind", []string{"--cluster auto", "no kubeconfig", "Docker answers", "kind: /usr/bin/kind"}, nil},
		{"asked, kind from REGEN_KIND", ModeKind, []string{"docker"}, "/cache/kind", []string{"/cache/kind"}, "/cache/kind", []string{"asked for; Docker answers", "kind: /cache/kind"}, nil},
		{"asked, kind go-installed", ModeKind, []string{"docker", "go"}, "", nil, "", []string{"e2e-framework go-installs it"}, nil},
		{"asked, REGEN_KIND missing", ModeKind, []string{"docker", "kind"}, "/cache/kind", nil, "", nil, []string{"REGEN_KIND=/cache/kind (no such file)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fakeProbe(tc.files, tc.path, nil)
			p.Getenv = func(k string) string { return map[string]string{EnvKind: tc.regenK}[k] }
			plan, err := Preflight(context.Background(), p, "dev", "", tc.want)
			checkPlan(t, plan, err, ModeKind, tc.errHas)
			if err != nil {
				return
			}
			if plan.Kind != tc.kind {
				t.Errorf("plan.Kind = %q, want %q", plan.Kind, tc.kind)
			}
			for _, s := range tc.whyHas {
				if !strings.Contains(plan.KindWhy, s) {
					t.Errorf("KindWhy %q lacks %q", plan.KindWhy, s)
				}
			}
		})
	}
}

func TestImageInputsMissing(t *testing.T) {
	t.Parallel()
	_, _, err := imageInputs(Options{ExecutorBinary: "/nonexistent/regen-executor"})
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("imageInputs with a missing executor = %v; want an error that says make build", err)
	}
}
