package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	staticOnce sync.Once
	staticPath string
	staticErr  error
	staticDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if staticDir != "" {
		os.RemoveAll(staticDir)
	}
	os.Exit(code)
}

// staticBinary builds (once) a tiny Go program with CGO_ENABLED=0.
func staticBinary(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH: cannot build a static test binary")
	}
	staticOnce.Do(func() {
		staticDir, staticErr = os.MkdirTemp("", "ociimage-test-")
		if staticErr != nil {
			return
		}
		src := filepath.Join(staticDir, "main.go")
		if staticErr = os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); staticErr != nil {
			return
		}
		staticPath = filepath.Join(staticDir, "static")
		cmd := exec.Command(goBin, "build", "-o", staticPath, src)
		cmd.Dir = staticDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GO111MODULE=off", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticErr = errors.New(err.Error() + ": " + string(out))
		}
	})
	if staticErr != nil {
		t.Fatalf("build static test binary: %v", staticErr)
	}
	return staticPath
}

// archive is a parsed OCI archive: the outer files and the order they came in.
type archive struct {
	files map[string][]byte
	order []string
}

func readArchive(t *testing.T, path string, mtime time.Time) archive {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := archive{files: map[string][]byte{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read archive: %v", err)
		}
		a.order = append(a.order, h.Name)
		if h.Uname != "" || h.Gname != "" || h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(mtime) {
			t.Errorf("archive entry %s: owner %q/%q %d:%d mtime %v; want numeric 0:0 at %v", h.Name, h.Uname, h.Gname, h.Uid, h.Gid, h.ModTime, mtime)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		a.files[h.Name] = b
	}
	return a
}

// blob returns the blob of a descriptor after checking its digest and size.
func (a archive) blob(t *testing.T, d descriptor) []byte {
	t.Helper()
	b, ok := a.files[blobName(d.Digest)]
	if !ok {
		t.Fatalf("blob %s missing from the archive", d.Digest)
	}
	sum := sha256.Sum256(b)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != d.Digest {
		t.Fatalf("blob %s has digest %s", d.Digest, got)
	}
	if int64(len(b)) != d.Size {
		t.Fatalf("blob %s: size %d, descriptor says %d", d.Digest, len(b), d.Size)
	}
	return b
}

type layerEntry struct {
	typ      byte
	mode     int64
	uid, gid int
	data     []byte
}

func readLayer(t *testing.T, b []byte) (map[string]layerEntry, []string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	m := map[string]layerEntry{}
	var order []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return m, order
		}
		if err != nil {
			t.Fatalf("read layer: %v", err)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("layer entry %s names owner %q/%q; want numeric only", h.Name, h.Uname, h.Gname)
		}
		data, _ := io.ReadAll(tr)
		m[h.Name] = layerEntry{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, gid: h.Gid, data: data}
		order = append(order, h.Name)
	}
}

// inspect parses an archive along index → manifest → config → layer,
// verifying every digest and size.
func inspect(t *testing.T, path string, mtime time.Time) (index, descriptor, imageConfig, map[string]layerEntry, []string) {
	t.Helper()
	a := readArchive(t, path, mtime)
	if got := string(a.files["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q", got)
	}
	var idx index
	if err := json.Unmarshal(a.files["index.json"], &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if idx.SchemaVersion != 2 || idx.MediaType != MediaTypeIndex || len(idx.Manifests) != 1 {
		t.Fatalf("index = %+v", idx)
	}
	var man manifest
	if err := json.Unmarshal(a.blob(t, idx.Manifests[0]), &man); err != nil {
		t.Fatal(err)
	}
	if man.MediaType != MediaTypeManifest || man.Config.MediaType != MediaTypeConfig || len(man.Layers) != 1 || man.Layers[0].MediaType != MediaTypeLayer {
		t.Fatalf("manifest = %+v", man)
	}
	var cfg imageConfig
	if err := json.Unmarshal(a.blob(t, man.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	layer := a.blob(t, man.Layers[0])
	if cfg.RootFS.Type != "layers" || len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != man.Layers[0].Digest {
		t.Errorf("rootfs = %+v; want the uncompressed layer's digest %s", cfg.RootFS, man.Layers[0].Digest)
	}
	if want := 2 + 3 + 2; len(a.files) != want {
		t.Errorf("archive has %d files %v; want %d", len(a.files), a.order, want)
	}
	entries, order := readLayer(t, layer)
	return idx, idx.Manifests[0], cfg, entries, order
}

func TestWriteExecutor(t *testing.T) {
	t.Parallel()
	bin := staticBinary(t)
	models := t.TempDir()
	if err := os.MkdirAll(filepath.Join(models, "checkpoints", "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"README.md": "models", "checkpoints/a.safetensors": "AAAA", "checkpoints/sub/b.safetensors": "BB"}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(models, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	spec, err := Executor(ExecutorOptions{Binary: bin, Models: models, Labels: map[string]string{"org.opencontainers.image.revision": "abc"}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.oci.tar")
	res, err := Write(out, spec)
	if err != nil {
		t.Fatal(err)
	}
	const ref = "docker.io/library/regen-executor:dev"
	if res.Ref != ref {
		t.Errorf("ref = %q, want %q", res.Ref, ref)
	}
	if info, err := os.Stat(out); err != nil || info.Size() != res.Size {
		t.Errorf("archive size: stat %v %v, result %d", info, err, res.Size)
	}
	_, desc, cfg, entries, order := inspect(t, out, time.Unix(0, 0))
	if desc.Digest != res.ManifestDigest {
		t.Errorf("manifest digest %s, result says %s", desc.Digest, res.ManifestDigest)
	}
	for _, k := range []string{AnnotationRefName, AnnotationImageName} {
		if desc.Annotations[k] != ref {
			t.Errorf("annotation %s = %q, want %q", k, desc.Annotations[k], ref)
		}
	}
	if desc.Platform == nil || desc.Platform.Architecture != runtime.GOARCH || desc.Platform.OS != "linux" {
		t.Errorf("platform = %+v", desc.Platform)
	}
	if cfg.Architecture != runtime.GOARCH || cfg.OS != "linux" || cfg.Created != "1970-01-01T00:00:00Z" {
		t.Errorf("config arch/os/created = %s/%s/%s", cfg.Architecture, cfg.OS, cfg.Created)
	}
	c := cfg.Config
	if c.User != "65532:65532" || strings.Join(c.Entrypoint, " ") != "/regen-executor" ||
		len(c.Cmd) != 6 || c.Cmd[0] != "--listen=0.0.0.0:8188" || c.Cmd[2] != "--models=/models" ||
		len(c.Env) != 1 || !strings.HasPrefix(c.Env[0], "PATH=") || c.Labels["org.opencontainers.image.revision"] != "abc" {
		t.Errorf("runtime config = %+v", c)
	}
	for _, p := range []string{"8188/tcp", "9090/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok || len(c.ExposedPorts) != 2 {
			t.Errorf("ExposedPorts = %v, want 8188/tcp and 9090/tcp", c.ExposedPorts)
		}
	}
	for _, v := range []string{"/input", "/output", "/temp", "/tmp"} {
		if _, ok := c.Volumes[v]; !ok || len(c.Volumes) != 4 {
			t.Errorf("Volumes = %v, want %s among 4", c.Volumes, v)
		}
	}
	binData, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]layerEntry{
		"input/":                               {tar.TypeDir, 0o755, NonRoot, NonRoot, nil},
		"output/":                              {tar.TypeDir, 0o755, NonRoot, NonRoot, nil},
		"temp/":                                {tar.TypeDir, 0o755, NonRoot, NonRoot, nil},
		"tmp/":                                 {tar.TypeDir, 0o1777, NonRoot, NonRoot, nil},
		"var/":                                 {tar.TypeDir, 0o755, NonRoot, NonRoot, nil},
		"var/lib/":                             {tar.TypeDir, 0o755, NonRoot, NonRoot, nil},
		"var/lib/regen/":                       {tar.TypeDir, 0o755, NonRoot, NonRoot, nil},
		"regen-executor":                       {tar.TypeReg, 0o755, 0, 0, binData},
		"models/":                              {tar.TypeDir, 0o755, 0, 0, nil},
		"models/README.md":                     {tar.TypeReg, 0o644, 0, 0, []byte("models")},
		"models/checkpoints/":                  {tar.TypeDir, 0o755, 0, 0, nil},
		"models/checkpoints/a.safetensors":     {tar.TypeReg, 0o644, 0, 0, []byte("AAAA")},
		"models/checkpoints/sub/":              {tar.TypeDir, 0o755, 0, 0, nil},
		"models/checkpoints/sub/b.safetensors": {tar.TypeReg, 0o644, 0, 0, []byte("BB")},
	}
	if len(entries) != len(want) {
		t.Errorf("layer has %d entries %v, want %d", len(entries), order, len(want))
	}
	for name, w := range want {
		g, ok := entries[name]
		if !ok {
			t.Errorf("layer lacks %s", name)
			continue
		}
		if g.typ != w.typ || g.mode != w.mode || g.uid != w.uid || g.gid != w.gid || !bytes.Equal(g.data, w.data) {
			t.Errorf("layer %s = type %c mode %o owner %d:%d (%d bytes); want type %c mode %o owner %d:%d (%d bytes)",
				name, g.typ, g.mode, g.uid, g.gid, len(g.data), w.typ, w.mode, w.uid, w.gid, len(w.data))
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("layer entries not sorted: %s before %s", order[i-1], order[i])
		}
	}
}

func TestWriteReproducible(t *testing.T) {
	t.Parallel()
	bin := staticBinary(t)
	spec, err := Pause(bin, "")
	if err != nil {
		t.Fatal(err)
	}
	spec.Entries = append(spec.Entries, Entry{Path: "/etc/x", Type: File, Mode: 0o600, UID: 7, GID: 8, Data: []byte("x")})
	dir := t.TempDir()
	var archives [][]byte
	var results []Result
	for _, name := range []string{"a.tar", "b.tar"} {
		res, err := Write(filepath.Join(dir, name), spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		archives, results = append(archives, b), append(results, res)
	}
	if !bytes.Equal(archives[0], archives[1]) || results[0] != results[1] {
		t.Fatalf("two writes differ: %+v vs %+v", results[0], results[1])
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	// A different mtime gives a different image: the test can fail.
	spec.Created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := Write(filepath.Join(dir, "c.tar"), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.ManifestDigest == results[0].ManifestDigest {
		t.Errorf("a different Created gave the same manifest digest %s", res.ManifestDigest)
	}
	_, desc, cfg, entries, _ := inspect(t, filepath.Join(dir, "c.tar"), spec.Created)
	if desc.Annotations[AnnotationImageName] != "docker.io/library/regen-pause:3.10" || cfg.Config.User != "65535:65535" || cfg.Created != "2026-01-02T03:04:05Z" {
		t.Errorf("pause image: annotations %v user %q created %s", desc.Annotations, cfg.Config.User, cfg.Created)
	}
	if e := entries["etc/"]; e.typ != tar.TypeDir || e.mode != 0o755 || e.uid != 0 {
		t.Errorf("implicit parent etc/ = %+v, want a 0755 root directory", e)
	}
	if e := entries["etc/x"]; e.mode != 0o600 || e.uid != 7 || e.gid != 8 || string(e.data) != "x" {
		t.Errorf("etc/x = %+v", e)
	}
}

func TestCheckStatic(t *testing.T) {
	t.Parallel()
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckStatic(staticBinary(t)); err != nil {
		t.Errorf("static Go binary refused: %v", err)
	}
	if err := CheckStatic(notELF); err == nil || !strings.Contains(err.Error(), "ELF") {
		t.Errorf("shell script: err = %v, want a not-ELF error", err)
	}
	if err := CheckStatic(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
	dyn := "/bin/true"
	if _, err := os.Stat(dyn); err != nil {
		t.Skip("no /bin/true to test a dynamic binary with")
	}
	err := CheckStatic(dyn)
	if !errors.Is(err, ErrNotStatic) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("%s: err = %v, want ErrNotStatic with the CGO_ENABLED=0 hint", dyn, err)
	}
	if _, err := Executor(ExecutorOptions{Binary: dyn, Models: t.TempDir()}); !errors.Is(err, ErrNotStatic) {
		t.Errorf("Executor accepted %s: %v", dyn, err)
	}
}

func TestNormalizeRef(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"regen-executor:dev", "docker.io/library/regen-executor:dev"},
		{"regen-executor", "docker.io/library/regen-executor:latest"},
		{"regen/executor:1.0", "docker.io/regen/executor:1.0"},
		{"docker.io/library/regen-pause:3.10", "docker.io/library/regen-pause:3.10"},
		{"index.docker.io/x:y", "docker.io/library/x:y"},
		{"localhost:5000/regen-executor:dev", "localhost:5000/regen-executor:dev"},
		{"registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"},
		{"Upper:dev", ""},
		{"x:bad tag", ""},
		{"x@sha256:abcd", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeRef(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Errorf("NormalizeRef(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizeRef(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestWriteRefusesBadEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []Entry
	}{
		{"relative", []Entry{{Path: "x", Type: Dir, Mode: 0o755}}},
		{"root", []Entry{{Path: "/", Type: Dir, Mode: 0o755}}},
		{"duplicate", []Entry{{Path: "/a", Type: Dir, Mode: 0o755}, {Path: "/a/", Type: Dir, Mode: 0o755}}},
		{"file parent", []Entry{{Path: "/a", Type: File, Mode: 0o644}, {Path: "/a/b", Type: File, Mode: 0o644}}},
		{"symlink mode", []Entry{{Path: "/a", Type: File, Mode: fs.ModeSymlink | 0o777}}},
		{"missing source", []Entry{{Path: "/a", Type: File, Mode: 0o644, Source: "/nonexistent/regen"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "x.tar")
			if _, err := Write(out, Spec{Ref: "x:y", Entries: tt.entries}); err == nil {
				t.Fatal("Write accepted it")
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed Write left %s (%v)", out, err)
			}
		})
	}
}
