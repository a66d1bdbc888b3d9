package cluster

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regen-dev/regen/runner/ociimage"
)

// deployment renders a minimal Deployment whose one container runs image,
// with extra lines under its resources (limits).
func deployment(image, limits string) string {
	y := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: regen-executor
spec:
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
        - name: executor
          image: ` + image + "\n"
	if limits != "" {
		y += "          resources:\n            limits:\n" + limits
	}
	return y
}

const nightly = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: regen-nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: regen
              image: ghcr.io/regen-dev/regen:0.1.0
`

func TestCheckNodeImages(t *testing.T) {
	t.Parallel()
	have := []string{"docker.io/library/regen-executor:dev", "regen.local/comfyui:0.33.0-r1"}
	tests := []struct {
		name      string
		manifests string
		errHas    []string
	}{
		{"dev: the executor image the run builds; the nightly is not checked", deployment("regen-executor:dev", "") + "---\n" + nightly, nil},
		{"comfyui-cpu: an imported archive's image", deployment("regen.local/comfyui:0.33.0-r1", ""), nil},
		{"prod: a registry image", deployment("ghcr.io/regen-dev/regen-executor:0.1.0", ""),
			[]string{"--env e cannot run on a host node", `Deployment/regen-executor container executor runs image "ghcr.io/regen-dev/regen-executor:0.1.0"`, "--image-archive", "regen.local/comfyui:0.33.0-r1"}},
		{"comfyui-cpu without its archive: another tag", deployment("regen.local/comfyui:0.34.0-r1", ""), []string{`"regen.local/comfyui:0.34.0-r1"`}},
		{"gpu: a GPU limit", deployment("regen-executor:dev", "              nvidia.com/gpu: \"1\"\n"), []string{"asks for nvidia.com/gpu; the node has no GPU"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkNodeImages("e", []byte(tc.manifests), have, ModeHost)
			if len(tc.errHas) == 0 {
				if err != nil {
					t.Fatalf("checkNodeImages: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNoCluster) {
				t.Fatalf("checkNodeImages = %v; want an ErrNoCluster", err)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestNodeImages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	archive := filepath.Join(dir, "comfyui.tar")
	spec := ociimage.Spec{Ref: "regen.local/comfyui:0.33.0-r1", Entries: []ociimage.Entry{{Path: "/x", Type: ociimage.File, Mode: 0o644, Data: []byte("x")}}}
	if _, err := ociimage.Write(archive, spec); err != nil {
		t.Fatal(err)
	}
	got, err := nodeImages(Options{Image: "regen-executor:dev", ImageArchives: []string{archive, archive}})
	if err != nil || strings.Join(got, " ") != "docker.io/library/regen-executor:dev regen.local/comfyui:0.33.0-r1" {
		t.Fatalf("nodeImages = %v, %v", got, err)
	}
	if _, err := nodeImages(Options{Image: "regen-executor:dev", ImageArchives: []string{filepath.Join(dir, "missing.tar")}}); err == nil || !strings.Contains(err.Error(), "--image-archive") {
		t.Errorf("nodeImages with a missing archive: %v", err)
	}
}
