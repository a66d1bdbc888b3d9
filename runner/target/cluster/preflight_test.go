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
			plan, err := Preflight(context.Background(), fakeProbe(tc.files, tc.path, tc.docker), tc.env, tc.kc)
			if tc.errHas == nil {
				if err != nil || plan.Mode != tc.want {
					t.Fatalf("Preflight = %+v, %v; want mode %s", plan, err, tc.want)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNoCluster) {
				t.Fatalf("Preflight = %+v, %v; want ErrNoCluster", plan, err)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
		})
	}
}

// TestPreflightHereIsFast runs the real probe with no kubeconfig: on a machine
// without Docker it must fail within seconds.
func TestPreflightHereIsFast(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	p := SystemProbe()
	p.Home = t.TempDir()
	start := time.Now()
	plan, err := Preflight(context.Background(), p, "dev", "")
	if d := time.Since(start); d > 7*time.Second {
		t.Fatalf("Preflight took %v", d)
	}
	if err == nil {
		t.Skipf("this machine has Docker and kind (plan %+v): nothing to check", plan)
	}
	t.Logf("%v", err)
}
