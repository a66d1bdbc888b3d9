package deploy

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ServerAnnotation on a pod template names the server its executor container
// runs: "comfyui" (components/comfyui) is checked with ComfyUI's flags;
// absent, regen-executor's.
const ServerAnnotation = "regen.dev/server"

// isComfyUI reports whether the pod template runs a real ComfyUI.
func isComfyUI(tmpl *corev1.PodTemplateSpec) bool {
	return tmpl.Annotations[ServerAnnotation] == "comfyui"
}

// comfyUI checks a ComfyUI executor container the way listen, dirs and
// backend check regen-executor: reachable on 0.0.0.0:8188, every folder it
// writes on a writable volume, models read-only from the PVC in pinned
// environments, and --cpu never next to a GPU (nor missing one in gpu).
func (c *checker) comfyUI(id, field string, ct *corev1.Container, spec *corev1.PodSpec) {
	if host, ok := argValue(ct, "--listen"); !ok || !wildcard(host) {
		c.add(id, field+".args", "ComfyUI listens on 127.0.0.1 unless told otherwise (--listen=%s); set --listen=0.0.0.0", host)
	}
	if port, ok := argValue(ct, "--port"); !ok || port != fmt.Sprint(ExecutorPort) {
		c.add(id, field+".args", "--port=%s; set --port=%d (probes, Services and the runner use it)", port, ExecutorPort)
	}
	for _, flag := range []string{"--input-directory", "--output-directory", "--temp-directory", "--user-directory"} {
		dir, ok := argValue(ct, flag)
		if !ok {
			c.add(id, field+".args", "no %s: ComfyUI would write under its install folder on a read-only root filesystem; point it at an emptyDir", flag)
			continue
		}
		m := mountFor(ct, dir)
		switch {
		case m == nil || m.ReadOnly:
			c.add(id, field+".volumeMounts", "%s=%s is not on a writable volume; mount an emptyDir there (the root filesystem is read-only)", flag, dir)
		case flag == "--user-directory" && strings.TrimSuffix(m.MountPath, "/") != strings.TrimSuffix(dir, "/"):
			c.add(id, field+".args", "--user-directory=%s is not a mount point; ComfyUI 0.33.0 refuses a user directory that does not exist: use the mount path (%s)", dir, m.MountPath)
		}
	}
	if _, ok := argValue(ct, "--database-url"); !ok {
		c.add(id, field+".args", "no --database-url: ComfyUI creates its SQLite file under its install folder (read-only); set --database-url=sqlite:///:memory: or a file on a volume")
	}
	_, cpu := argFlag(ct, "--cpu")
	gpuRes, hasGPU := gpuLimit(ct)
	switch {
	case cpu && hasGPU:
		c.add(id, field+".args", "holds %s but runs ComfyUI with --cpu; drop --cpu", gpuRes)
	case gpuEnv(c.env) && !hasGPU:
		c.add(id, field+".resources.limits[nvidia.com/gpu]", "missing in the %s environment; include ../../components/gpu", c.env)
	case !cpu && !hasGPU:
		c.add(id, field+".args", "no GPU and no --cpu: ComfyUI stops at start-up looking for CUDA; add --cpu, or include ../../components/gpu")
	}
	if gpuEnv(c.env) && !slices.ContainsFunc(spec.Tolerations, func(t corev1.Toleration) bool { return strings.HasPrefix(t.Key, "nvidia.com/") }) {
		c.add(id, "spec.template.spec.tolerations", "no toleration for nvidia.com/gpu; GPU nodes are usually tainted, the pod would stay Pending")
	}
	if !pinnedEnv(c.env) {
		return
	}
	cfg, ok := argValue(ct, "--extra-model-paths-config")
	if !ok {
		c.add(id, field+".args", "no --extra-model-paths-config: ComfyUI would read models from its image, not the models PVC; use components/comfyui's extra_model_paths.yaml")
	} else if mountFor(ct, cfg) == nil {
		c.add(id, field+".volumeMounts", "--extra-model-paths-config=%s is not on a mounted volume; mount the comfyui-config ConfigMap", cfg)
	}
	m := mountFor(ct, "/models")
	switch {
	case m == nil:
		c.add(id, field+".volumeMounts", "no volume at /models in %s; include ../../components/models (the shared regen-models PVC)", c.env)
	case !m.ReadOnly:
		c.add(id, fmt.Sprintf("%s.volumeMounts[%s].readOnly", field, m.Name), "ComfyUI only reads models; mount /models readOnly: true")
	}
}

// argFlag reports whether a boolean flag (--flag or --flag=true) is set.
func argFlag(ct *corev1.Container, flag string) (string, bool) {
	for _, a := range slices.Concat(ct.Command, ct.Args) {
		if a == flag || a == flag+"=true" {
			return a, true
		}
	}
	return "", false
}
