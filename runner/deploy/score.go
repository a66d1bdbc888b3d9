package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// WaiverFile is the committed list of accepted kube-score findings, at the
// kustomize root. hack/kubescore.sh runs kube-score itself (v1.20.0, its own
// module: it does not build against k8s.io/apimachinery v0.35) with the same
// file; Score runs the same checks in-process for `regen deploy validate`.
const WaiverFile = "kube-score.yaml"

// Grades of a finding, as kube-score names them.
const (
	GradeCritical = "CRITICAL"
	GradeWarning  = "WARNING"
)

// Finding is one kube-score check an object does not pass.
type Finding struct {
	Object string // Kind/name
	Check  string // kube-score's check ID, e.g. pod-networkpolicy
	Grade  string // GradeCritical or GradeWarning
	Detail string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s %s: %s", f.Grade, f.Object, f.Check, f.Detail)
}

// Waiver accepts a check for some objects (Kind/name; none: all) in some
// environments (none: all), with a reason.
type Waiver struct {
	Check   string   `json:"check"`
	Objects []string `json:"objects,omitempty"`
	Envs    []string `json:"envs,omitempty"`
	Reason  string   `json:"reason"`
}

// Waivers is the content of WaiverFile.
type Waivers struct {
	Waivers []Waiver `json:"waivers"`
}

// LoadWaivers reads root/WaiverFile strictly; every waiver needs a check and a
// reason. A missing file is no waivers.
func LoadWaivers(root string) (*Waivers, error) {
	path := filepath.Join(root, WaiverFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Waivers{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kube-score waivers: %w", err)
	}
	var w Waivers
	if err := yaml.UnmarshalStrict(b, &w); err != nil {
		return nil, fmt.Errorf("decode kube-score waivers %s: %w", path, err)
	}
	for i, v := range w.Waivers {
		if v.Check == "" || strings.TrimSpace(v.Reason) == "" {
			return nil, fmt.Errorf("kube-score waivers %s: waiver %d needs a check and a reason", path, i+1)
		}
	}
	return &w, nil
}

// Waived reports whether env's finding f is waived.
func (w *Waivers) Waived(env string, f Finding) bool {
	return w != nil && slices.ContainsFunc(w.Waivers, func(v Waiver) bool {
		return v.Check == f.Check &&
			(len(v.Envs) == 0 || slices.Contains(v.Envs, env)) &&
			(len(v.Objects) == 0 || slices.Contains(v.Objects, f.Object))
	})
}

// podTemplate is a workload's pod template with the object that owns it.
type podTemplate struct {
	id   string
	tmpl *corev1.PodTemplateSpec
}

// Score runs, in-process, the kube-score checks (v1.20.0's defaults, as its
// README_CHECKS describes them) that regen's overlays can fail: resources,
// ephemeral storage, image pull policy, network policies (ingress and
// egress), identical probes, Deployment replicas and strategy. Findings come
// in object order, then check order.
func Score(objs []Object) []Finding {
	var (
		out  []Finding
		pods []podTemplate
		nps  []*networkingv1.NetworkPolicy
	)
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			pods = append(pods, podTemplate{o.ID(), &v.Spec.Template})
		case *batchv1.CronJob:
			pods = append(pods, podTemplate{o.ID(), &v.Spec.JobTemplate.Spec.Template})
		case *batchv1.Job:
			pods = append(pods, podTemplate{o.ID(), &v.Spec.Template})
		case *networkingv1.NetworkPolicy:
			nps = append(nps, v)
		}
	}
	add := func(id, check, grade, format string, args ...any) {
		out = append(out, Finding{Object: id, Check: check, Grade: grade, Detail: fmt.Sprintf(format, args...)})
	}
	for _, p := range pods {
		spec := &p.tmpl.Spec
		all := slices.Concat(spec.InitContainers, spec.Containers)
		var pull, eph, res []string
		for _, ct := range all {
			if ct.ImagePullPolicy != corev1.PullAlways {
				pull = append(pull, ct.Name)
			}
			r := ct.Resources
			if _, ok := r.Requests[corev1.ResourceEphemeralStorage]; !ok {
				eph = append(eph, ct.Name+" request")
			}
			if _, ok := r.Limits[corev1.ResourceEphemeralStorage]; !ok {
				eph = append(eph, ct.Name+" limit")
			}
			for _, need := range []struct {
				l    corev1.ResourceList
				name corev1.ResourceName
				what string
			}{{r.Limits, corev1.ResourceCPU, "CPU limit"}, {r.Requests, corev1.ResourceCPU, "CPU request"},
				{r.Limits, corev1.ResourceMemory, "memory limit"}, {r.Requests, corev1.ResourceMemory, "memory request"}} {
				if _, ok := need.l[need.name]; !ok {
					res = append(res, ct.Name+" "+need.what)
				}
			}
		}
		if len(eph) > 0 {
			add(p.id, "container-ephemeral-storage-request-and-limit", GradeCritical, "ephemeral-storage not set: %s", strings.Join(eph, ", "))
		}
		if len(pull) > 0 {
			add(p.id, "container-image-pull-policy", GradeCritical, "imagePullPolicy is not Always: %s", strings.Join(pull, ", "))
		}
		if len(res) > 0 {
			add(p.id, "container-resources", GradeCritical, "not set: %s", strings.Join(res, ", "))
		}
		ingress, egress := policyCoverage(nps, p.tmpl.Labels)
		switch {
		case !ingress && !egress:
			add(p.id, "pod-networkpolicy", GradeCritical, "no NetworkPolicy selects the pod")
		case !ingress:
			add(p.id, "pod-networkpolicy", GradeWarning, "no ingress NetworkPolicy selects the pod")
		case !egress:
			add(p.id, "pod-networkpolicy", GradeWarning, "no egress NetworkPolicy selects the pod")
		}
		for _, ct := range spec.Containers {
			if ct.ReadinessProbe != nil && ct.LivenessProbe != nil &&
				reflect.DeepEqual(ct.ReadinessProbe.ProbeHandler, ct.LivenessProbe.ProbeHandler) {
				add(p.id, "pod-probes-identical", GradeCritical, "container %s: readiness and liveness probe have the same handler", ct.Name)
			}
		}
		if d, ok := deploymentOf(objs, p.id); ok {
			if d.Spec.Replicas != nil && *d.Spec.Replicas < 2 {
				add(p.id, "deployment-replicas", GradeWarning, "%d replica(s)", *d.Spec.Replicas)
			}
			if d.Spec.Strategy.Type != "" && d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
				add(p.id, "deployment-strategy", GradeWarning, "strategy %s", d.Spec.Strategy.Type)
			}
		}
	}
	return out
}

// policyCoverage reports whether some NetworkPolicy with an Ingress, and
// some with an Egress, policy type selects pods labelled l.
func policyCoverage(nps []*networkingv1.NetworkPolicy, l map[string]string) (ingress, egress bool) {
	for _, np := range nps {
		s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !s.Matches(labels.Set(l)) {
			continue
		}
		types := np.Spec.PolicyTypes
		if len(types) == 0 { // the API server's default
			types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			if len(np.Spec.Egress) > 0 {
				types = append(types, networkingv1.PolicyTypeEgress)
			}
		}
		ingress = ingress || slices.Contains(types, networkingv1.PolicyTypeIngress)
		egress = egress || slices.Contains(types, networkingv1.PolicyTypeEgress)
	}
	return ingress, egress
}

func deploymentOf(objs []Object, id string) (*appsv1.Deployment, bool) {
	for _, o := range objs {
		if d, ok := o.Value.(*appsv1.Deployment); ok && o.ID() == id {
			return d, true
		}
	}
	return nil, false
}

// scoreProblems turns env's unwaived CRITICAL findings into problems.
func scoreProblems(env string, objs []Object, w *Waivers) []Problem {
	var ps []Problem
	for _, f := range Score(objs) {
		if f.Grade != GradeCritical || w.Waived(env, f) {
			continue
		}
		ps = append(ps, Problem{Env: env, Object: f.Object, Field: "kube-score " + f.Check,
			Msg: f.Detail + "; fix it, or waive it with a reason in " + WaiverFile + " (hack/kubescore.sh runs kube-score itself)"})
	}
	return ps
}
