package deploy

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/regen-dev/regen/internal/testutil"
)

// The comfyui-cpu overlay runs the image hack/comfyui-image.sh builds: the
// tag the script names (version and recipe rev) is the one the overlay pins,
// or a host-node run would refuse the overlay (the image is not imported).
func TestComfyUICPURunsTheScriptsImage(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	cmd := exec.Command("bash", testutil.Path(t, "hack/comfyui-image.sh"), "ref")
	// The overlay's ComfyUI version; no source is needed to name the image.
	cmd.Env = append(os.Environ(), "COMFYUI_VERSION=0.33.0", "COMFYUI_SRC=/nonexistent")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/comfyui-image.sh ref: %v", err)
	}
	want := strings.TrimSpace(string(out))
	dir, err := OverlayDir(testutil.Path(t, "kustomize"), "comfyui-cpu")
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := Render(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Decode(rendered)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		if d, ok := o.Value.(*appsv1.Deployment); ok {
			for _, c := range d.Spec.Template.Spec.Containers {
				got = append(got, c.Image)
			}
		}
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("comfyui-cpu runs %v; hack/comfyui-image.sh builds %s: bump newTag in kustomize/overlays/comfyui-cpu with the script's rev", got, want)
	}
}
