package cluster

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
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
					DisableDefaultCNI bool   `json:"disableDefaultCNI"`
					PodSubnet         string `json:"podSubnet"`
					ServiceSubnet     string `json:"serviceSubnet"`
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
			// regen's node image routes exactly these ranges; kind's own picks its defaults.
			wantPods, wantSvc := "", ""
			if tc.noCNI {
				wantPods, wantSvc = RegenPodSubnet, RegenServiceSubnet
			}
			if cfg.Networking.PodSubnet != wantPods || cfg.Networking.ServiceSubnet != wantSvc {
				t.Errorf("KindConfig(%q): podSubnet %q, serviceSubnet %q; want %q, %q", tc.node, cfg.Networking.PodSubnet, cfg.Networking.ServiceSubnet, wantPods, wantSvc)
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

// TestRegenNodeCNIConfig: the bridge CNI config in regen's node image gives
// pods addresses inside the pod range KindConfig asks for and a route to
// exactly its Service range — without that route a pod cannot reach any
// Service IP (CoreDNS, which lists from the apiserver's 10.96.0.1, never
// becomes Ready) — and no default route (pods get no route off the node);
// the node refuses what is still addressed to that range after kube-proxy's
// DNAT.
func TestRegenNodeCNIConfig(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "hack", "kindnode", "10-regen-bridge.conflist"))
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []struct {
			Type      string `json:"type"`
			Bridge    string `json:"bridge"`
			IsGateway bool   `json:"isGateway"`
			IsDefault bool   `json:"isDefaultGateway"`
			IPMasq    bool   `json:"ipMasq"`
			IPAM      struct {
				Ranges [][]struct {
					Subnet string `json:"subnet"`
				} `json:"ranges"`
				Routes []struct {
					Dst string `json:"dst"`
				} `json:"routes"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(b, &conf); err != nil {
		t.Fatalf("parse the CNI config: %v", err)
	}
	if len(conf.Plugins) == 0 || conf.Plugins[0].Type != "bridge" {
		t.Fatalf("first plugin = %+v, want the bridge", conf.Plugins)
	}
	br := conf.Plugins[0]
	if !br.IsGateway || br.IsDefault || br.IPMasq {
		t.Errorf("bridge isGateway %v, isDefaultGateway %v, ipMasq %v; want the node as the pods' gateway to Services only, no masquerade", br.IsGateway, br.IsDefault, br.IPMasq)
	}
	pods := netip.MustParsePrefix(RegenPodSubnet)
	for _, set := range br.IPAM.Ranges {
		for _, r := range set {
			p, err := netip.ParsePrefix(r.Subnet)
			if err != nil || !pods.Contains(p.Addr()) || p.Bits() < pods.Bits() {
				t.Errorf("IPAM range %q is not inside the pod range %s (%v)", r.Subnet, RegenPodSubnet, err)
			}
		}
	}
	var dsts []string
	for _, r := range br.IPAM.Routes {
		dsts = append(dsts, r.Dst)
	}
	if !slices.Equal(dsts, []string{RegenServiceSubnet}) {
		t.Errorf("pod routes %q; want exactly the Service range %s (no default route)", dsts, RegenServiceSubnet)
	}
	// What is still addressed to a Service IP after kube-proxy's DNAT is refused in
	// the node (regen-node-checks), not sent along the node's default route.
	checks, err := os.ReadFile(filepath.Join("..", "..", "..", "hack", "kindnode", "regen-node-checks"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ip rule add iif " + br.Bridge + " to " + RegenServiceSubnet + " unreachable"; !strings.Contains(string(checks), want) {
		t.Errorf("hack/kindnode/regen-node-checks lacks %q", want)
	}
}
