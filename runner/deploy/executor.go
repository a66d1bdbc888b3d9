package deploy

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// isExecutor reports whether a container runs regen-executor (or ComfyUI in
// its place): the base names it executor; --backend marks it too.
func isExecutor(ct *corev1.Container) bool {
	_, ok := argValue(ct, "--backend")
	return ct.Name == "executor" || ok
}

// listen checks the executor's listen addresses: the default 127.0.0.1 is
// unreachable from the kubelet's probes and from other pods, and the scrape
// annotation must name the port the metrics are served on.
func (c *checker) listen(id, field string, ct *corev1.Container, tmpl *corev1.PodTemplateSpec) {
	addr, ok := argValue(ct, "--listen")
	if !ok {
		c.add(id, field+".args", "no --listen: the executor then listens on 127.0.0.1:%d, which probes and clients cannot reach; add --listen=0.0.0.0:%d", ExecutorPort, ExecutorPort)
	} else if host, port, err := net.SplitHostPort(addr); err != nil || !wildcard(host) || port != strconv.Itoa(ExecutorPort) {
		c.add(id, field+".args", "--listen=%s; use --listen=0.0.0.0:%d (the pod IP must answer on %d; the NetworkPolicy decides who may connect)", addr, ExecutorPort, ExecutorPort)
	}
	want, annotated := tmpl.Annotations["prometheus.io/port"]
	if !annotated {
		return
	}
	maddr, ok := argValue(ct, "--metrics-listen")
	if !ok {
		// Metrics stay on --listen too.
		maddr = addr
	}
	host, port, err := net.SplitHostPort(maddr)
	if err != nil || port != want || !wildcard(host) {
		c.add(id, "spec.template.metadata.annotations[prometheus.io/port]", "is %s but the executor serves /metrics on %q; make --metrics-listen=0.0.0.0:%s and the annotation agree", want, maddr, want)
	}
}

func wildcard(host string) bool { return host == "" || host == "0.0.0.0" || host == "::" }

// dirs checks that the folders the executor writes to are writable volumes
// (the root filesystem is read-only) and, in prod/gpu, that the models come
// from a volume rather than the image's fixtures.
func (c *checker) dirs(id, field string, ct *corev1.Container, spec *corev1.PodSpec) {
	for _, flag := range []string{"--input", "--output", "--temp"} {
		dir, ok := argValue(ct, flag)
		if !ok {
			c.add(id, field+".args", "no %s: the executor would write to a folder relative to its working directory on a read-only root filesystem; set %s=/%s on an emptyDir", flag, flag, strings.TrimPrefix(flag, "--"))
			continue
		}
		m := mountFor(ct, dir)
		if m == nil || m.ReadOnly {
			c.add(id, field+".volumeMounts", "%s=%s is not on a writable volume; mount an emptyDir at %s (the root filesystem is read-only)", flag, dir, dir)
		}
	}
	if m := mountFor(ct, "/tmp"); m == nil || m.ReadOnly {
		c.add(id, field+".volumeMounts", "/tmp is not a writable volume; mount an emptyDir there (uploads spill to the temp dir)")
	}
	if !pinnedEnv(c.env) {
		return
	}
	models, ok := argValue(ct, "--models")
	if !ok {
		c.add(id, field+".args", "no --models; set --models=/models (the models component mounts its PVC there)")
		return
	}
	m := mountFor(ct, models)
	if m == nil {
		c.add(id, field+".volumeMounts", "--models=%s is not a mounted volume in %s; include ../../components/models (the image's fixture models are for dev)", models, c.env)
		return
	}
	if !m.ReadOnly {
		c.add(id, fmt.Sprintf("%s.volumeMounts[%s].readOnly", field, m.Name), "the executor only reads models; mount %s readOnly: true", models)
	}
	if v := volume(spec, m.Name); v != nil && v.PersistentVolumeClaim == nil {
		c.add(id, fmt.Sprintf("spec.template.spec.volumes[%s]", m.Name), "the models volume is not a PersistentVolumeClaim in %s; use the models component's regen-models PVC", c.env)
	}
}

// mountFor returns the container's mount that holds path (the deepest one).
func mountFor(ct *corev1.Container, path string) *corev1.VolumeMount {
	var best *corev1.VolumeMount
	for i := range ct.VolumeMounts {
		m := &ct.VolumeMounts[i]
		mp := strings.TrimSuffix(m.MountPath, "/")
		if path == mp || strings.HasPrefix(path, mp+"/") {
			if best == nil || len(mp) > len(strings.TrimSuffix(best.MountPath, "/")) {
				best = m
			}
		}
	}
	return best
}

func volume(spec *corev1.PodSpec, name string) *corev1.Volume {
	i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == name })
	if i < 0 {
		return nil
	}
	return &spec.Volumes[i]
}
