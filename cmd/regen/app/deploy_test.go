package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
)

func deployRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), append([]string{"deploy"}, args...), &out, &errb)
	return out.String(), err
}

func TestDeployValidateAll(t *testing.T) {
	t.Parallel()
	out, err := deployRun(t, "validate", "--dir", testutil.Path(t, "kustomize"))
	if err != nil {
		t.Fatalf("deploy validate: %v\n%s", err, out)
	}
	for _, env := range []string{"dev", "prod", "gpu"} {
		if !strings.Contains(out, env) || !strings.Contains(out, "Deployment/regen-executor") {
			t.Errorf("output does not report %s with its Deployment:\n%s", env, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("output reports a failure:\n%s", out)
	}
}

func TestDeployRender(t *testing.T) {
	t.Parallel()
	out, err := deployRun(t, "render", "--env", "gpu", "--dir", testutil.Path(t, "kustomize"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: Deployment", "nvidia.com/gpu: \"1\"", "value: cuda"} {
		if !strings.Contains(out, want) {
			t.Errorf("gpu render lacks %q", want)
		}
	}
	file := filepath.Join(t.TempDir(), "dev.yaml")
	if _, err := deployRun(t, "render", "--env", "dev", "--dir", testutil.Path(t, "kustomize"), "-o", file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.Contains(b, []byte("kind: CronJob")) {
		t.Fatalf("render -o wrote %d bytes (%v); want the dev manifests", len(b), err)
	}
}

func TestDeployErrors(t *testing.T) {
	t.Parallel()
	broken := filepath.Join(t.TempDir(), "kustomize")
	if err := os.CopyFS(broken, os.DirFS(testutil.Path(t, "kustomize"))); err != nil {
		t.Fatal(err)
	}
	kfile := filepath.Join(broken, "overlays", "dev", "kustomization.yaml")
	k, err := os.ReadFile(kfile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kfile, bytes.Replace(k, []byte("resources:\n"), []byte("bases:\n"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no action", nil, "deploy needs an action"},
		{"unknown action", []string{"launch"}, `unknown deploy action "launch"`},
		{"render without env", []string{"render"}, "deploy render needs --env"},
		{"unknown env", []string{"validate", "--env", "staging"}, `unknown environment "staging"`},
		{"apply without a kubeconfig says what to do", []string{"apply", "--env", "dev", "--dir", testutil.Path(t, "kustomize"), "--kubeconfig", filepath.Join(t.TempDir(), "none")}, "Point --kubeconfig or KUBECONFIG at a cluster"},
		{"delete without a kubeconfig says what to do", []string{"delete", "--env", "prod", "--dir", testutil.Path(t, "kustomize"), "--kubeconfig", filepath.Join(t.TempDir(), "none")}, "Point --kubeconfig or KUBECONFIG at a cluster"},
		{"apply to an unknown env", []string{"apply", "--env", "staging"}, `unknown environment "staging"`},
		{"deprecated bases", []string{"validate", "--env", "dev", "--dir", broken}, "'bases' is deprecated"},
		{"render fails on deprecated fields too", []string{"render", "--env", "dev", "--dir", broken}, "deprecated field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := deployRun(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("regen deploy %v = %v; want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestDeployApplyNoKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	start := time.Now()
	_, err := deployRun(t, "apply", "--env", "dev", "--dir", testutil.Path(t, "kustomize"))
	if err == nil || !strings.Contains(err.Error(), "no kubeconfig") || !strings.Contains(err.Error(), "KUBECONFIG") {
		t.Fatalf("apply with no kubeconfig = %v; want a message naming what is missing", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v: must fail within seconds", d)
	}
}
