package deploy

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// podSpec checks what every pod regen deploys must satisfy: non-root, no
// privilege, read-only root filesystem, seccomp, GPU limits equal to requests,
// and pinned images where the environment requires it.
func (c *checker) podSpec(id, prefix string, spec *corev1.PodSpec) {
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		c.add(id, prefix, "uses the host's network/PID/IPC namespace; remove hostNetwork/hostPID/hostIPC")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			c.add(id, fmt.Sprintf("%s.volumes[%s].hostPath", prefix, v.Name), "hostPath volumes are not allowed; use a PVC or an emptyDir")
		}
	}
	type entry struct {
		field string // prefix.initContainers[name] or prefix.containers[name]
		ct    *corev1.Container
	}
	var cts []entry
	for i := range spec.InitContainers {
		ct := &spec.InitContainers[i]
		cts = append(cts, entry{fmt.Sprintf("%s.initContainers[%s]", prefix, ct.Name), ct})
	}
	for i := range spec.Containers {
		ct := &spec.Containers[i]
		cts = append(cts, entry{fmt.Sprintf("%s.containers[%s]", prefix, ct.Name), ct})
	}
	// Every volumeMount must name a volume of the pod.
	for _, e := range cts {
		for _, m := range e.ct.VolumeMounts {
			if volume(spec, m.Name) == nil {
				c.add(id, fmt.Sprintf("%s.volumeMounts[%s]", e.field, m.Name), "names no volume of the pod; add it to %s.volumes or fix the name", prefix)
			}
		}
	}
	for _, e := range cts {
		c.containerSecurity(id, e.field, prefix, e.ct, psc)
		c.extendedResources(id, e.field, e.ct)
		c.image(id, e.field, e.ct)
	}
}

func (c *checker) containerSecurity(id, field, prefix string, ct *corev1.Container, psc *corev1.PodSecurityContext) {
	sc := ct.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	user := psc.RunAsUser
	if sc.RunAsUser != nil {
		user = sc.RunAsUser
	}
	nonRoot := psc.RunAsNonRoot
	if sc.RunAsNonRoot != nil {
		nonRoot = sc.RunAsNonRoot
	}
	switch {
	case user != nil && *user == 0:
		c.add(id, field+".securityContext.runAsUser", "runs as root (uid 0); set runAsUser: 65532 (the image's non-root user) in %s.securityContext", prefix)
	case nonRoot == nil || !*nonRoot:
		c.add(id, field+".securityContext.runAsNonRoot", "not true; set runAsNonRoot: true (pod or container securityContext)")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		c.add(id, field+".securityContext.readOnlyRootFilesystem", "not true; set it and mount an emptyDir where the container writes (/tmp, /output, /temp, /input)")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		c.add(id, field+".securityContext.allowPrivilegeEscalation", "not false; set allowPrivilegeEscalation: false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		c.add(id, field+".securityContext.privileged", "privileged containers are not allowed; remove it")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		c.add(id, field+".securityContext.capabilities.drop", "must contain ALL")
	} else if len(sc.Capabilities.Add) > 0 {
		c.add(id, field+".securityContext.capabilities.add", "adds %v; the executor needs no capability (it listens above 1024)", sc.Capabilities.Add)
	}
	seccomp := psc.SeccompProfile
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type == corev1.SeccompProfileTypeUnconfined {
		c.add(id, field+".securityContext.seccompProfile", "unset or Unconfined; set seccompProfile.type: RuntimeDefault in %s.securityContext", prefix)
	}
}

// extendedResources requires a limit equal to the request for every extended
// resource (nvidia.com/gpu and friends): they cannot be overcommitted, and a
// request without a limit is rejected by the API server.
func (c *checker) extendedResources(id, field string, ct *corev1.Container) {
	for _, name := range sortedNames(ct.Resources.Requests) {
		if !isGPUResource(name) && !(strings.Contains(name, "/") && !strings.Contains(name, "kubernetes.io/")) {
			continue
		}
		req := ct.Resources.Requests[corev1.ResourceName(name)]
		lim, ok := ct.Resources.Limits[corev1.ResourceName(name)]
		f := fmt.Sprintf("%s.resources.limits[%s]", field, name)
		switch {
		case !ok:
			c.add(id, f, "missing while requests[%s] is %s; set the limit to %s too (extended resources are allocated by limit and cannot be overcommitted)", name, req.String(), req.String())
		case req.Cmp(lim) != 0:
			c.add(id, f, "is %s but the request is %s; make them equal", lim.String(), req.String())
		}
	}
}

// image requires a name, and in prod/gpu a version tag (not latest) or a digest.
func (c *checker) image(id, field string, ct *corev1.Container) {
	if ct.Image == "" {
		c.add(id, field+".image", "empty; set it with images: in the overlay")
		return
	}
	if !pinnedEnv(c.env) || strings.Contains(ct.Image, "@sha256:") {
		return
	}
	tag := ""
	if i := strings.LastIndex(ct.Image, ":"); i > strings.LastIndex(ct.Image, "/") {
		tag = ct.Image[i+1:]
	}
	if tag == "" || tag == "latest" {
		c.add(id, field+".image", "%q is not pinned in %s; set newTag (a version) or digest (sha256:...) for it under images: in kustomize/overlays/%s/kustomization.yaml", ct.Image, c.env, c.env)
	}
}
