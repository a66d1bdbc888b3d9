package deploy

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// checker accumulates the problems of one environment.
type checker struct {
	env      string
	problems []Problem
}

func (c *checker) add(obj, field, format string, args ...any) {
	c.problems = append(c.problems, Problem{Env: c.env, Object: obj, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Check asserts env's invariants on decoded objects and returns the problems
// in document order.
func Check(env string, objs []Object) []Problem {
	c := &checker{env: env}
	var deps []*appsv1.Deployment
	hpaTargets := map[string]bool{}
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			deps = append(deps, v)
		case *autoscalingv2.HorizontalPodAutoscaler:
			if v.Spec.ScaleTargetRef.Kind == "Deployment" {
				hpaTargets[v.Spec.ScaleTargetRef.Name] = true
			}
		}
	}
	if len(deps) == 0 {
		c.add("Deployment", "-", "no Deployment rendered: the overlay must include ../../base (or ../prod)")
	}
	for _, o := range objs {
		id := o.ID()
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			c.deployment(id, v, hpaTargets[v.Name])
		case *batchv1.CronJob:
			c.podSpec(id, "spec.jobTemplate.spec.template.spec", &v.Spec.JobTemplate.Spec.Template.Spec)
		case *batchv1.Job:
			c.podSpec(id, "spec.template.spec", &v.Spec.Template.Spec)
		case *corev1.Service:
			if len(v.Spec.Selector) > 0 && !anyTemplateMatches(deps, labels.SelectorFromSet(v.Spec.Selector)) {
				c.add(id, "spec.selector", "selects no pod of any rendered Deployment (%v); make it a subset of the pod template's labels", v.Spec.Selector)
			}
		case *policyv1.PodDisruptionBudget:
			c.selector(id, "spec.selector", v.Spec.Selector, deps)
		case *networkingv1.NetworkPolicy:
			if selectsCronJob(objs, &v.Spec.PodSelector) {
				continue // the nightly's own policy
			}
			c.selector(id, "spec.podSelector", &v.Spec.PodSelector, deps)
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := v.Spec.ScaleTargetRef
			if !slices.ContainsFunc(deps, func(d *appsv1.Deployment) bool { return ref.Kind == "Deployment" && d.Name == ref.Name }) {
				c.add(id, "spec.scaleTargetRef", "targets %s/%s, which is not rendered; name the executor Deployment", ref.Kind, ref.Name)
			}
		}
	}
	if netpolEnv(env) {
		c.networkPolicies(objs, deps)
	}
	return c.problems
}

// deployment checks one Deployment: selector, replicas and strategy, probes,
// backend and GPU, and its pod spec.
func (c *checker) deployment(id string, d *appsv1.Deployment, autoscaled bool) {
	c.selectorMatchesTemplate(id, d.Spec.Selector, d.Spec.Template.Labels)
	if autoscaled {
		if d.Spec.Replicas != nil {
			c.add(id, "spec.replicas", "set to %d while a HorizontalPodAutoscaler owns the replicas; remove it (ArgoCD/Flux would reset the HPA's count on every sync)", *d.Spec.Replicas)
		}
	} else {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
			c.add(id, "spec.replicas", "must be 1: the executor keeps queue and history per process and the runner addresses pods (scale with the autoscale component instead)")
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			c.add(id, "spec.strategy.type", "is %q; set Recreate (never two executors on one model volume or GPU during a rollout)", d.Spec.Strategy.Type)
		}
	}
	spec := &d.Spec.Template.Spec
	const prefix = "spec.template.spec"
	executors := 0
	for i := range spec.Containers {
		ct := &spec.Containers[i]
		if !isExecutor(ct) {
			continue // a sidecar: only the pod-wide checks apply
		}
		executors++
		field := fmt.Sprintf("%s.containers[%s]", prefix, ct.Name)
		c.probes(id, field, ct)
		if isComfyUI(&d.Spec.Template) {
			c.comfyUI(id, field, ct, spec)
			continue
		}
		c.backend(id, field, ct, spec)
		c.listen(id, field, ct, &d.Spec.Template)
		c.dirs(id, field, ct, spec)
	}
	if executors == 0 {
		c.add(id, prefix+".containers", "no executor container (named executor, or running with --backend); the base's container must stay")
	}
	c.podSpec(id, prefix, spec)
}

// probes requires startup, readiness and liveness probes on GET /system_stats
// at the executor's port.
func (c *checker) probes(id, field string, ct *corev1.Container) {
	if !slices.ContainsFunc(ct.Ports, func(p corev1.ContainerPort) bool { return p.ContainerPort == ExecutorPort }) {
		c.add(id, field+".ports", "does not declare containerPort %d; add {name: http, containerPort: %d}", ExecutorPort, ExecutorPort)
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
		why   string
	}{
		{"startupProbe", ct.StartupProbe, "without it the liveness probe can kill an executor still loading models or initialising the GPU"},
		{"readinessProbe", ct.ReadinessProbe, "without it the pod is addressed before it can serve"},
		{"livenessProbe", ct.LivenessProbe, "without it a wedged executor is never restarted"},
	}
	for _, p := range probes {
		f := field + "." + p.name
		if p.probe == nil {
			c.add(id, f, "missing; add httpGet {path: %s, port: %d} (%s)", ProbePath, ExecutorPort, p.why)
			continue
		}
		g := p.probe.HTTPGet
		if g == nil {
			c.add(id, f, "is not an httpGet probe; use httpGet {path: %s, port: %d}", ProbePath, ExecutorPort)
			continue
		}
		if g.Path != ProbePath {
			c.add(id, f+".httpGet.path", "is %q; use %s", g.Path, ProbePath)
		}
		if port := resolvePort(g.Port.String(), ct); port != ExecutorPort {
			c.add(id, f+".httpGet.port", "is %s (port %d); use %d", g.Port.String(), port, ExecutorPort)
		}
	}
}

// resolvePort turns a probe's port (a number or a container port name) into a
// number; 0 when it names no port.
func resolvePort(p string, ct *corev1.Container) int32 {
	var n int32
	if _, err := fmt.Sscanf(p, "%d", &n); err == nil && fmt.Sprint(n) == p {
		return n
	}
	for _, cp := range ct.Ports {
		if cp.Name == p {
			return cp.ContainerPort
		}
	}
	return 0
}

// backend checks that the CUDA backend and a GPU come together, and that the
// gpu environment has both.
func (c *checker) backend(id, field string, ct *corev1.Container, spec *corev1.PodSpec) {
	backend, ok := argValue(ct, "--backend")
	if !ok {
		return // not an executor container
	}
	gpuRes, hasGPU := gpuLimit(ct)
	// A GPU request without its limit is reported by extendedResources.
	gpuRequested := slices.ContainsFunc(sortedNames(ct.Resources.Requests), isGPUResource)
	switch {
	case backend == "cuda" && !hasGPU && !gpuRequested:
		c.add(id, field+".resources.limits", "runs --backend=cuda without a GPU; add the gpu component (resources.limits[nvidia.com/gpu]: 1)")
	case backend != "cuda" && hasGPU:
		c.add(id, field+".args", "holds %s but runs --backend=%s; set the backend to cuda (the gpu component sets REGEN_BACKEND=cuda)", gpuRes, backend)
	}
	if !gpuEnv(c.env) {
		return
	}
	if backend != "cuda" {
		c.add(id, field+".args", "--backend=%s in the gpu environment; include ../../components/gpu (REGEN_BACKEND=cuda)", backend)
	}
	if !hasGPU && !gpuRequested {
		c.add(id, field+".resources.limits[nvidia.com/gpu]", "missing in the gpu environment; include ../../components/gpu")
	}
	if !slices.ContainsFunc(spec.Tolerations, func(t corev1.Toleration) bool { return strings.HasPrefix(t.Key, "nvidia.com/") }) {
		c.add(id, "spec.template.spec.tolerations", "no toleration for nvidia.com/gpu; GPU nodes are usually tainted, the pod would stay Pending")
	}
}

// argValue returns the value of flag in the container's command line
// (--flag=v or --flag v), expanding $(VAR) from the container's env values.
func argValue(ct *corev1.Container, flag string) (string, bool) {
	args := slices.Concat(ct.Command, ct.Args)
	for i, a := range args {
		var v string
		switch {
		case strings.HasPrefix(a, flag+"="):
			v = strings.TrimPrefix(a, flag+"=")
		case a == flag && i+1 < len(args):
			v = args[i+1]
		default:
			continue
		}
		for _, e := range ct.Env {
			v = strings.ReplaceAll(v, "$("+e.Name+")", e.Value)
		}
		return v, true
	}
	return "", false
}

// gpuLimit returns the container's GPU resource limit (nvidia.com/*), if any.
func gpuLimit(ct *corev1.Container) (string, bool) {
	for _, name := range sortedNames(ct.Resources.Limits) {
		q := ct.Resources.Limits[corev1.ResourceName(name)]
		if isGPUResource(name) && !q.IsZero() {
			return name, true
		}
	}
	return "", false
}

func isGPUResource(name string) bool {
	return strings.HasPrefix(name, "nvidia.com/") || strings.HasPrefix(name, "amd.com/") || strings.HasPrefix(name, "gpu.intel.com/")
}

func sortedNames(l corev1.ResourceList) []string {
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	slices.Sort(names)
	return names
}

// selector checks that a selector selects the pods of some rendered Deployment.
func (c *checker) selector(id, field string, sel *metav1.LabelSelector, deps []*appsv1.Deployment) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.add(id, field, "invalid selector: %v", err)
		return
	}
	if sel == nil || s.Empty() {
		c.add(id, field, "selects every pod in the namespace; select the executor's labels (app.kubernetes.io/name, app.kubernetes.io/instance)")
		return
	}
	if !anyTemplateMatches(deps, s) {
		c.add(id, field, "selects no pod of any rendered Deployment (%s); make it match the pod template's labels", s)
	}
}

func (c *checker) selectorMatchesTemplate(id string, sel *metav1.LabelSelector, tmpl map[string]string) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	switch {
	case err != nil:
		c.add(id, "spec.selector", "invalid selector: %v", err)
	case sel == nil || s.Empty():
		c.add(id, "spec.selector", "empty; select the pod template's app.kubernetes.io/name and app.kubernetes.io/instance labels")
	case !s.Matches(labels.Set(tmpl)):
		c.add(id, "spec.selector", "%s does not match the pod template's labels %v; make spec.selector.matchLabels a subset of spec.template.metadata.labels (the API server rejects the Deployment otherwise)", s, tmpl)
	}
}

// selectsCronJob reports whether a non-empty selector selects the pods of a
// rendered CronJob (the nightly).
func selectsCronJob(objs []Object, sel *metav1.LabelSelector) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return slices.ContainsFunc(objs, func(o Object) bool {
		cj, ok := o.Value.(*batchv1.CronJob)
		return ok && s.Matches(labels.Set(cj.Spec.JobTemplate.Spec.Template.Labels))
	})
}

func anyTemplateMatches(deps []*appsv1.Deployment, s labels.Selector) bool {
	return slices.ContainsFunc(deps, func(d *appsv1.Deployment) bool { return s.Matches(labels.Set(d.Spec.Template.Labels)) })
}

// networkPolicies requires an Ingress NetworkPolicy over every Deployment's pods.
func (c *checker) networkPolicies(objs []Object, deps []*appsv1.Deployment) {
	for _, d := range deps {
		covered := false
		for _, o := range objs {
			np, ok := o.Value.(*networkingv1.NetworkPolicy)
			if !ok || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
				continue
			}
			s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err == nil && s.Matches(labels.Set(d.Spec.Template.Labels)) {
				covered = true
			}
		}
		if !covered {
			c.add("Deployment/"+d.Name, "-", "no Ingress NetworkPolicy selects its pods in %s; add networkpolicy.yaml (in-namespace clients and the metrics scraper only) to the overlay's resources", c.env)
		}
	}
}
