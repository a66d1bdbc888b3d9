package app

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// staticTestBinary builds a tiny static Go program in dir, or skips when go
// is missing.
func staticTestBinary(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH: cannot build a static test binary")
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "static")
	cmd := exec.Command(goBin, "build", "-o", bin, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GO111MODULE=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build static test binary: %v\n%s", err, out)
	}
	return bin
}

func imageRun(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := Run(context.Background(), append([]string{"image"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

func TestImageWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := staticTestBinary(t, dir)
	models := filepath.Join(dir, "models")
	if err := os.MkdirAll(models, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(models, "m.safetensors"), []byte("weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, wantRef string
		args          []string
	}{
		{"executor", "docker.io/library/regen-executor:dev", []string{"executor", "--binary", bin, "--models", models}},
		{"executor ref", "example.com/regen/executor:ci", []string{"executor", "--binary", bin, "--models", models, "--ref", "example.com/regen/executor:ci"}},
		{"pause", "docker.io/library/regen-pause:3.10", []string{"pause", "--binary", bin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var archives [][]byte
			for i := range 2 {
				file := filepath.Join(t.TempDir(), "sub", "img.oci.tar")
				out, _, err := imageRun(append(tt.args, "-o", file)...)
				if err != nil {
					t.Fatalf("image %v: %v", tt.args, err)
				}
				fields := strings.Fields(out)
				if len(fields) < 2 || fields[0] != tt.wantRef || !strings.HasPrefix(fields[1], "sha256:") || !strings.HasSuffix(strings.TrimSpace(out), file) {
					t.Errorf("run %d printed %q; want the ref %s, the manifest digest and the file", i, out, tt.wantRef)
				}
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(b, []byte(`"io.containerd.image.name":"`+tt.wantRef+`"`)) {
					t.Errorf("archive's index does not name %s", tt.wantRef)
				}
				archives = append(archives, b)
			}
			if !bytes.Equal(archives[0], archives[1]) {
				t.Error("two runs wrote different archives")
			}
		})
	}
}

func TestImageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "x.tar")
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name, want string
		args       []string
	}{
		{"no kind", "executor or pause", nil},
		{"unknown kind", `unknown image "cuda"`, []string{"cuda"}},
		{"no output", "needs -o FILE", []string{"pause", "--binary", "/bin/true"}},
		{"bad ref", "invalid", []string{"pause", "--binary", "/bin/true", "--ref", "Bad:ref", "-o", out}},
		{"extra argument", "unexpected argument", []string{"pause", "-o", out, "extra"}},
		{"missing binary", "make build", []string{"pause", "--binary", missing, "-o", out}},
		{"dynamic binary", "CGO_ENABLED=0", []string{"pause", "--binary", "/bin/true", "-o", out}},
		{"missing models", "models directory", []string{"executor", "--binary", "/bin/true", "--models", missing, "-o", out}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.name == "missing models" {
				tt.args[2] = staticTestBinary(t, t.TempDir())
			}
			if strings.Contains(strings.Join(tt.args, " "), "/bin/true") {
				if _, err := os.Stat("/bin/true"); err != nil {
					t.Skip("no /bin/true")
				}
			}
			_, _, err := imageRun(tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if code := ExitCode(err, io.Discard); code != ExitInfra {
				t.Errorf("exit code %d, want %d", code, ExitInfra)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s written despite the error", out)
			}
		})
	}
}
