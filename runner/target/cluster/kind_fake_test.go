package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeKind writes a kind stand-in that logs every call and keeps one cluster
// ("regen-test") as a state file, and returns its path and its call log.
func fakeKind(t *testing.T, exists bool) (bin, calls string) {
	t.Helper()
	dir := t.TempDir()
	bin, calls = filepath.Join(dir, "kind"), filepath.Join(dir, "calls")
	state := filepath.Join(dir, "cluster")
	if exists {
		if err := os.WriteFile(state, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `#!/bin/sh
echo "$*" >>'` + calls + `'
case "$1 $2" in
"get clusters") [ -f '` + state + `' ] && echo regen-test ;;
"create cluster") touch '` + state + `' ;;
"delete cluster") rm -f '` + state + `' ;;
"get kubeconfig") printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user: {}\n' ;;
esac
exit 0
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, calls
}

// staticExecutor builds a tiny static program to stand in for regen-executor.
func staticExecutor(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "regen-executor")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a static stand-in executor: %v: %s", err, b)
	}
	return out
}

// TestKindLifecycle drives startKind and down against a fake kind: the node
// image, the config and an explicit kubeconfig reach `kind create`, the
// executor image is loaded from an OCI archive, a cluster the run created is
// deleted with the explicit kubeconfig and one it found is left, and
// nothing is written under $HOME.
func TestKindLifecycle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fake kind is a shell script and the executor image a linux binary")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not in PATH: cannot build the stand-in executor")
	}
	exe := staticExecutor(t)
	models := t.TempDir()
	if err := os.WriteFile(filepath.Join(models, "m.safetensors"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", "")
	const node = RegenNodeImagePrefix + "v1.37.2-r2"
	for _, existed := range []bool{false, true} {
		name := "creates and deletes"
		if existed {
			name = "reuses and leaves"
		}
		t.Run(name, func(t *testing.T) {
			bin, calls := fakeKind(t, existed)
			var notes []string
			o := Options{Env: "dev", KindName: "regen-test", Image: "regen-executor:dev", KindNodeImage: node,
				ExecutorBinary: exe, Models: models, Log: nil, Notify: func(s string) { notes = append(notes, s) }}
			o = New(o).opts // defaults (logger)
			c, err := startKind(context.Background(), o, Plan{Mode: ModeKind, Kind: bin})
			if err != nil {
				t.Fatalf("startKind: %v", err)
			}
			if c.created == existed {
				t.Errorf("created = %v for a cluster that existed = %v", c.created, existed)
			}
			runDir := c.dir
			if err := c.down(o.Log, false, false, ""); err != nil {
				t.Fatalf("down: %v", err)
			}
			b, err := os.ReadFile(calls)
			if err != nil {
				t.Fatal(err)
			}
			log := string(b)
			create := "create cluster --name regen-test --config " + filepath.Join(runDir, "kind.yaml") + " --kubeconfig " + filepath.Join(runDir, "kubeconfig") + " --image " + node
			if got := strings.Contains(log, create); got == existed {
				t.Errorf("kind calls (existed=%v) %s create %q:\n%s", existed, map[bool]string{true: "have", false: "lack"}[got], create, log)
			}
			if load := "load image-archive --name regen-test " + filepath.Join(runDir, "executor.oci.tar"); !strings.Contains(log, load) {
				t.Errorf("kind calls lack %q:\n%s", load, log)
			}
			del := "delete cluster --name regen-test --kubeconfig " + filepath.Join(runDir, "kubeconfig")
			if got := strings.Contains(log, del); got == existed {
				t.Errorf("kind calls (existed=%v) %s delete %q:\n%s", existed, map[bool]string{true: "have", false: "lack"}[got], del, log)
			}
			if _, err := os.Stat(runDir); !os.IsNotExist(err) {
				t.Errorf("the run's kind dir %s is still there (%v)", runDir, err)
			}
			if ents, _ := os.ReadDir(home); len(ents) != 0 {
				t.Errorf("$HOME gained %v", ents)
			}
			all := strings.Join(notes, "\n")
			want := map[bool]string{false: "kind cluster regen-test deleted", true: "already there: reused"}[existed]
			if !strings.Contains(all, want) || !strings.Contains(all, "loaded into kind") {
				t.Errorf("notes lack %q or the image load:\n%s", want, all)
			}
		})
	}
}
