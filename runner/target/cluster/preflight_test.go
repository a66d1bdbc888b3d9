package cluster

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

func fakeProbe(files, path []string, dockerErr error) Probe {
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	return Probe{
		Home:   "/home/u",
		Getenv: func(k string) string { return map[string]string{"KUBECONFIG": os.Getenv("FAKE_KUBECONFIG")}[k] },
		Stat: func(p string) (os.FileInfo, error) {
			if has(files, p) {
				return nil, nil
			}
			return nil, fs.ErrNotExist
		},
		LookPath: func(b string) (string, error) {
			if has(path, b) {
				return "/usr/bin/" + b, nil
			}
			return "", errors.New("not found")
		},
		DockerInfo: func(context.Context) error { return dockerErr },
	}
}

func TestPreflight(t *testing.T) {
	tests := []struct {
		name    string
		env, kc string
		files   []string
		path    []string
		docker  error
		want    Mode
		errHas  []string
	}{
		{"explicit kubeconfig", "gpu", "/k", []string{"/k"}, nil, nil, ModeKubeconfig, nil},
		{"explicit kubeconfig missing", "dev", "/k", nil, nil, nil, "", []string{"kubeconfig /k", "no cluster"}},
		{"home kubeconfig", "prod", "", []string{"/home/u/.kube/config"}, nil, nil, ModeKubeconfig, nil},
		{"prod without kubeconfig", "prod", "", nil, []string{"docker", "kind"}, nil, "", []string{"--env prod needs a cluster", "make e2e", "KUBECONFIG"}},
		{"dev without docker", "dev", "", nil, []string{"go"}, nil, "", []string{"missing docker (not on PATH)", "make e2e", "KUBECONFIG", "kind v0.33.0"}},
		{"dev, docker daemon down", "dev", "", nil, []string{"docker", "kind"}, errors.New("Cannot connect"), "", []string{"a running Docker daemon", "Cannot connect"}},
		{"dev without kind or go", "dev", "", nil, []string{"docker"}, nil, "", []string{"kind v0.33.0 (not on PATH"}},
		{"dev on kind", "dev", "", nil, []string{"docker", "kind"}, nil, ModeKind, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Preflight(context.Background(), fakeProbe(tc.files, tc.path, tc.docker), tc.env, tc.kc, ModeAuto)
			checkPlan(t, plan, err, tc.want, tc.errHas)
		})
	}
}

// checkPlan wants mode when errHas is nil, else an ErrNoCluster naming
// every string of errHas.
func checkPlan(t *testing.T, plan Plan, err error, mode Mode, errHas []string) {
	t.Helper()
	if errHas == nil {
		if err != nil || plan.Mode != mode {
			t.Fatalf("Preflight = %+v, %v; want mode %s", plan, err, mode)
		}
		return
	}
	if err == nil || !errors.Is(err, ErrNoCluster) {
		t.Fatalf("Preflight = %+v, %v; want ErrNoCluster", plan, err)
	}
	for _, s := range errHas {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

// TestPreflightHereIsFast runs the real probe with no kubeconfig: on a machine
// without Docker it must fail within seconds.
func TestPreflightHereIsFast(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	p := SystemProbe()
	p.Home = t.TempDir()
	start := time.Now()
	plan, err := Preflight(context.Background(), p, "dev", "", ModeAuto)
	if d := time.Since(start); d > 7*time.Second {
		t.Fatalf("Preflight took %v", d)
	}
	if err == nil {
		t.Skipf("this machine has Docker and kind (plan %+v): nothing to check", plan)
	}
	t.Logf("%v", err)
}

func TestPreflightHost(t *testing.T) {
	hostOK := func() error { return nil }
	hostMissing := func() error { return errors.New("missing containerd (fix: apt-get install -y containerd)") }
	tests := []struct {
		name   string
		env    string
		want   Mode
		files  []string
		path   []string
		host   func() error
		mode   Mode
		errHas []string
	}{
		{"auto: no kubeconfig, no docker, host works", "dev", ModeAuto, nil, []string{"go"}, hostOK, ModeHost, nil},
		{"auto: kind preferred over host", "dev", ModeAuto, nil, []string{"docker", "kind"}, hostOK, ModeKind, nil},
		{"auto: kubeconfig preferred over host", "dev", ModeAuto, []string{"/home/u/.kube/config"}, nil, hostOK, ModeKubeconfig, nil},
		{"auto: nothing works names all three", "dev", ModeAuto, nil, nil, hostMissing, "", []string{"kind: missing docker", "host node: missing containerd", "apt-get install", "no kubeconfig"}},
		{"auto: no host probe", "dev", ModeAuto, nil, nil, nil, "", []string{"host node: not available"}},
		{"host wanted, kubeconfig present", "dev", ModeHost, []string{"/home/u/.kube/config"}, nil, hostOK, ModeHost, nil},
		{"host wanted but missing", "dev", ModeHost, nil, []string{"docker", "kind"}, hostMissing, "", []string{"--cluster host", "missing containerd"}},
		// Any overlay when asked for: Target.Start then refuses what the
		// node cannot run (checkNodeImages).
		{"host wanted for comfyui-cpu", "comfyui-cpu", ModeHost, nil, nil, hostOK, ModeHost, nil},
		{"host wanted for another overlay, missing", "comfyui-cpu", ModeHost, nil, nil, hostMissing, "", []string{"--cluster host", "missing containerd"}},
		{"auto: only dev falls back to a host node", "comfyui-cpu", ModeAuto, nil, nil, hostOK, "", []string{"--env comfyui-cpu needs a cluster"}},
		{"kind wanted without docker", "dev", ModeKind, nil, nil, hostOK, "", []string{"--cluster kind: missing docker"}},
		{"kubeconfig wanted, none", "dev", ModeKubeconfig, nil, []string{"docker", "kind"}, hostOK, "", []string{"--cluster kubeconfig: no kubeconfig"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fakeProbe(tc.files, tc.path, nil)
			p.Host = tc.host
			plan, err := Preflight(context.Background(), p, tc.env, "", tc.want)
			checkPlan(t, plan, err, tc.mode, tc.errHas)
			if err == nil && plan.Mode == ModeHost && tc.want == ModeAuto && !strings.Contains(plan.Why, "no kind") {
				t.Errorf("auto host plan does not say why: %q", plan.Why)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeAuto, "auto": ModeAuto, "host": ModeHost, "kind": ModeKind, "kubeconfig": ModeKubeconfig} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("minikube"); err == nil {
		t.Error("ParseMode(minikube) succeeded")
	}
}
