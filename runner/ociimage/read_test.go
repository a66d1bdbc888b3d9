package ociimage

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTar writes files (name → content) as a tar archive.
func writeTar(t *testing.T, path string, files [][2]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, nf := range files {
		if err := tw.WriteHeader(&tar.Header{Name: nf[0], Mode: 0o644, Size: int64(len(nf[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(nf[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveRefs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec, err := Pause(staticBinary(t), "")
	if err != nil {
		t.Fatal(err)
	}
	written := filepath.Join(dir, "pause.tar")
	if _, err := Write(written, spec); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		files   [][2]string // nil: the archive Write wrote
		want    []string
		wantErr string
	}{
		{name: "written by Write", want: []string{"docker.io/library/regen-pause:3.10"}},
		{
			// hack/comfyui-image.sh's archives carry both annotations.
			name:  "shell-built, both annotations, normalised",
			files: [][2]string{{"oci-layout", `{}`}, {"index.json", `{"manifests":[{"annotations":{"io.containerd.image.name":"regen.local/comfyui:0.33.0-r1","org.opencontainers.image.ref.name":"regen.local/comfyui:0.33.0-r1"}}]}`}},
			want:  []string{"regen.local/comfyui:0.33.0-r1"},
		},
		{
			name:  "ref.name only, ./ prefix, short name",
			files: [][2]string{{"./index.json", `{"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"comfyui"}},{"annotations":{"io.containerd.image.name":"comfyui:latest"}}]}`}},
			want:  []string{"docker.io/library/comfyui:latest"},
		},
		{name: "no index", files: [][2]string{{"oci-layout", `{}`}}, wantErr: "no index.json"},
		{name: "no names", files: [][2]string{{"index.json", `{"manifests":[{"digest":"sha256:00"}]}`}}, wantErr: "names no image"},
		{name: "bad json", files: [][2]string{{"index.json", `{"manifests":`}}, wantErr: "index.json"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := written
			if tc.files != nil {
				path = filepath.Join(dir, "a"+string(rune('0'+i))+".tar")
				writeTar(t, path, tc.files)
			}
			got, err := ArchiveRefs(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ArchiveRefs = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ArchiveRefs = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := ArchiveRefs(filepath.Join(dir, "missing.tar")); err == nil {
		t.Error("ArchiveRefs of a missing file: no error")
	}
}
