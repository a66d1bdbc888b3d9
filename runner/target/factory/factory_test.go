package factory

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/target"
	"github.com/regen-dev/regen/runner/target/cluster"
	"github.com/regen-dev/regen/runner/target/local"
)

// kustomizeRoot makes a kustomize root whose overlays are envs (plus a
// directory that is no overlay).
func kustomizeRoot(t *testing.T, envs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, e := range envs {
		dir := filepath.Join(root, "overlays", e)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "overlays", "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestNewPicksTheKind(t *testing.T) {
	t.Parallel()
	root := kustomizeRoot(t, "dev", "staging")
	tests := []struct {
		name     string
		env      string
		wantKind Kind
		check    func(t *testing.T, tg target.Target)
	}{
		{name: "empty is local", env: "", wantKind: KindLocal, check: isLocal},
		{name: "local", env: "local", wantKind: KindLocal, check: isLocal},
		{name: "http url", env: "http://127.0.0.1:8188/", wantKind: KindURL, check: func(t *testing.T, tg target.Target) {
			u, ok := tg.(*target.URL)
			if !ok || u.Base != "http://127.0.0.1:8188" {
				t.Fatalf("New = %#v, want *target.URL at http://127.0.0.1:8188", tg)
			}
		}},
		{name: "https url", env: "https://comfy.example:443", wantKind: KindURL, check: func(t *testing.T, tg target.Target) {
			if tg.Describe() != "https://comfy.example:443" {
				t.Fatalf("Describe = %q", tg.Describe())
			}
		}},
		{name: "shipped-style overlay", env: "dev", wantKind: KindCluster, check: isCluster("dev")},
		{name: "any overlay on disk", env: "staging", wantKind: KindCluster, check: isCluster("staging")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind, err := Resolve(tt.env, root)
			if err != nil || kind != tt.wantKind {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tt.env, kind, err, tt.wantKind)
			}
			tg, err := New(Options{Env: tt.env, KustomizeDir: root, WorkDir: t.TempDir()})
			if err != nil {
				t.Fatalf("New(%q): %v", tt.env, err)
			}
			tt.check(t, tg)
			if err := tg.Close(); err != nil {
				t.Errorf("Close of an unstarted target: %v", err)
			}
		})
	}
}

func isLocal(t *testing.T, tg target.Target) {
	t.Helper()
	if _, ok := tg.(*local.Target); !ok {
		t.Fatalf("New = %T, want *local.Target", tg)
	}
}

func isCluster(env string) func(*testing.T, target.Target) {
	return func(t *testing.T, tg target.Target) {
		t.Helper()
		if _, ok := tg.(*cluster.Target); !ok || tg.Describe() != "cluster "+env {
			t.Fatalf("New = %T %q, want *cluster.Target for %s", tg, tg.Describe(), env)
		}
	}
}

func TestNewRefusesWhatIsNoEnvironment(t *testing.T) {
	t.Parallel()
	root := kustomizeRoot(t, "dev", "gpu", "prod")
	tests := []struct {
		name, env, dir string
		cluster        string
		wantUnknown    bool
		want           []string
	}{
		{name: "unknown name lists the environments", env: "mars", dir: root, wantUnknown: true,
			want: []string{`unknown environment "mars"`, "local, dev, gpu, prod (the overlays under " + filepath.Join(root, "overlays") + ")", "http(s):// URL"}},
		{name: "a directory without a kustomization is no overlay", env: "notes", dir: root, wantUnknown: true, want: []string{`"notes"`, "local, dev, gpu, prod"}},
		{name: "no kustomize root says where to run from", env: "dev", dir: filepath.Join(root, "nowhere"), wantUnknown: true, want: []string{`unknown environment "dev"`, "repository root"}},
		{name: "other scheme", env: "ftp://host/x", dir: root, wantUnknown: true, want: []string{"http:// or https://"}},
		{name: "url without host", env: "http://", dir: root, want: []string{"http(s)://host"}},
		{name: "bad cluster mode, even for local", env: "local", dir: root, cluster: "docker", want: []string{"--cluster", `unknown cluster mode "docker"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg, err := New(Options{Env: tt.env, KustomizeDir: tt.dir, Cluster: tt.cluster})
			if err == nil {
				t.Fatalf("New(%q) = %T, want an error", tt.env, tg)
			}
			if errors.Is(err, ErrUnknownEnv) != tt.wantUnknown {
				t.Errorf("errors.Is(%v, ErrUnknownEnv) = %v, want %v", err, !tt.wantUnknown, tt.wantUnknown)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

// TestOptionsReachEachKind: every option the CLI gives lands in the
// options of the kind that reads it.
func TestOptionsReachEachKind(t *testing.T) {
	t.Parallel()
	logger := testutil.Logger()
	notify := func(string) {}
	o := Options{
		Env: "dev", KustomizeDir: "k", WorkDir: filepath.Join("out", "run-1"), Models: "m", Replicas: 3,
		Kubeconfig: "kc", Cluster: "host", Keep: true, PortForward: true, KubeBin: "kb", ExecutorBinary: "eb",
		Logger: logger, Notify: notify,
	}
	lo := localOptions(o)
	if lo.Models != "m" || lo.WorkDir != o.WorkDir || lo.Replicas != 3 || lo.Logger != logger {
		t.Errorf("localOptions = %+v", lo)
	}
	co, err := clusterOptions(o)
	if err != nil {
		t.Fatal(err)
	}
	if co.Env != "dev" || co.KustomizeDir != "k" || co.Kubeconfig != "kc" || co.Mode != cluster.ModeHost || !co.Keep || !co.PortForward ||
		co.KubeBin != "kb" || co.ExecutorBinary != "eb" || co.Models != "m" || co.Log != logger || co.Notify == nil ||
		co.RunID != "run-1" || co.DiagnosticsDir != filepath.Join("out", "run-1", "cluster") {
		t.Errorf("clusterOptions = %+v", co)
	}
	o.Cluster, o.WorkDir, o.KustomizeDir, o.PortForward = "", "", "", false
	if co, err = clusterOptions(o); err != nil || co.Mode != cluster.ModeAuto || co.PortForward || co.RunID != "" || co.DiagnosticsDir != "" || co.KustomizeDir != "kustomize" {
		t.Errorf("clusterOptions defaults = %+v, %v", co, err)
	}
}

func TestEnvironments(t *testing.T) {
	t.Parallel()
	if got := Environments(kustomizeRoot(t, "prod", "dev")); !slices.Equal(got, []string{"local", "dev", "prod"}) {
		t.Errorf("Environments = %v", got)
	}
	if got := Environments(filepath.Join(t.TempDir(), "none")); !slices.Equal(got, []string{"local"}) {
		t.Errorf("Environments without a root = %v", got)
	}
}
