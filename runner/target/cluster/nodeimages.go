package cluster

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/regen-dev/regen/runner/deploy"
	"github.com/regen-dev/regen/runner/ociimage"
)

// nodeImages returns the images a node this run brings up (a host node, a
// kind cluster) will hold: the executor image it builds and every
// ImageArchives archive's images, normalised and sorted.
func nodeImages(o Options) ([]string, error) {
	ex, err := ociimage.NormalizeRef(o.Image)
	if err != nil {
		return nil, fmt.Errorf("executor image: %w", err)
	}
	have := []string{ex}
	for _, a := range o.ImageArchives {
		refs, err := ociimage.ArchiveRefs(a)
		if err != nil {
			return nil, fmt.Errorf("--image-archive: %w", err)
		}
		have = append(have, refs...)
	}
	slices.Sort(have)
	return slices.Compact(have), nil
}

// checkNodeImages refuses, before any node is brought up, an environment that
// a node this run brings up cannot run: nothing there can pull from a
// registry, so every Deployment's container image must be one of have (the
// images the run imports), and neither node has a GPU. The nightly CronJob is
// not checked: it never runs during a run.
func checkNodeImages(env string, manifests []byte, have []string, mode Mode) error {
	objs, err := deploy.Decode(manifests)
	if err != nil {
		return fmt.Errorf("environment %s: %w", env, err)
	}
	var problems []string
	for _, o := range objs {
		d, ok := o.Value.(*appsv1.Deployment)
		if !ok {
			continue
		}
		spec := d.Spec.Template.Spec
		for _, ct := range slices.Concat(spec.InitContainers, spec.Containers) {
			ref, err := ociimage.NormalizeRef(ct.Image)
			if err != nil || !slices.Contains(have, ref) {
				problems = append(problems, fmt.Sprintf("%s container %s runs image %q, which the node will not have (it can pull from no registry; it gets %s): pass its OCI archive with --image-archive (hack/comfyui-image.sh builds ComfyUI's)",
					o.ID(), ct.Name, ct.Image, strings.Join(have, ", ")))
			}
			for name := range ct.Resources.Limits {
				if strings.HasPrefix(string(name), "nvidia.com/") || strings.HasPrefix(string(name), "amd.com/") {
					problems = append(problems, fmt.Sprintf("%s container %s asks for %s; the node has no GPU (use a CPU overlay, e.g. comfyui-cpu, or a GPU cluster's kubeconfig)", o.ID(), ct.Name, name))
				}
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("--env %s cannot run on a %s node this run brings up: %w:\n  %s", env, mode, ErrNoCluster, strings.Join(problems, "\n  "))
	}
	return nil
}
