package kube

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/e2e-framework/klient/decoder"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
	"sigs.k8s.io/e2e-framework/klient/wait"
	"sigs.k8s.io/e2e-framework/klient/wait/conditions"
)

// Labels regen puts on every namespace and object it deploys.
const (
	LabelRunID     = "regen.dev/run-id"
	LabelEnv       = "regen.dev/env"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	FieldManager   = "regen"
)

// Timeouts bound each phase of a deploy; a phase that runs past its limit
// fails with a *TimeoutError naming it.
type Timeouts struct {
	Apply   time.Duration // namespace creation and server-side apply of every object
	Rollout time.Duration // every Deployment Available with all replicas updated
	Cleanup time.Duration // namespace (and fake volumes) gone
}

// DefaultTimeouts returns the timeouts for env: gpu nodes pull big images and
// preload models, and a real ComfyUI (comfyui, comfyui-cpu) starts slowly,
// so their rollouts may take longer.
func DefaultTimeouts(env string) Timeouts {
	t := Timeouts{Apply: 30 * time.Second, Rollout: 2 * time.Minute, Cleanup: time.Minute}
	switch env {
	case "prod":
		t.Rollout = 5 * time.Minute
	case "comfyui-cpu":
		// A real ComfyUI on a CPU node: torch and its node packs load for up to
		// the overlay's 5-minute startup probe.
		t.Rollout = 5 * time.Minute
	case "gpu", "comfyui":
		t.Rollout = 10 * time.Minute
	}
	return t
}

// Deployer applies rendered overlays to the cluster behind Config.
type Deployer struct {
	Config *rest.Config
	Log    *slog.Logger

	res *resources.Resources
	cs  kubernetes.Interface
}

// NewDeployer connects to the cluster (no request is made yet).
func NewDeployer(cfg *rest.Config, log *slog.Logger) (*Deployer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := resources.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("new deployer: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("new deployer: %w", err)
	}
	return &Deployer{Config: cfg, Log: log, res: res, cs: cs}, nil
}

// Clientset is the typed client the deployer uses.
func (d *Deployer) Clientset() kubernetes.Interface { return d.cs }

var notLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// NamespaceName returns a fresh namespace name for env and runID:
// regen-<env>-<run id, sanitized>-<5 random letters>, at most 63 characters.
func NamespaceName(env, runID string) string {
	id := strings.Trim(notLabel.ReplaceAllString(strings.ToLower(runID), "-"), "-")
	if len(id) > 30 {
		id = strings.Trim(id[len(id)-30:], "-")
	}
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	suffix := make([]byte, 5)
	for i := range suffix {
		suffix[i] = letters[rand.IntN(len(letters))]
	}
	parts := []string{"regen", env}
	if id != "" {
		parts = append(parts, id)
	}
	return strings.Join(append(parts, string(suffix)), "-")
}

// labelValue makes s a valid label value (≤ 63 of [A-Za-z0-9._-], alphanumeric ends).
func labelValue(s string) string {
	s = regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(s, "-")
	if len(s) > 63 {
		s = s[len(s)-63:]
	}
	return strings.Trim(s, "-_.")
}

// CreateNamespace creates ns labelled with the run id and environment.
func (d *Deployer) CreateNamespace(ctx context.Context, ns, env, runID string) error {
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		LabelRunID: labelValue(runID), LabelEnv: env, LabelManagedBy: FieldManager,
	}}}
	if _, err := d.cs.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// Objects splits rendered manifests into unstructured objects (through
// e2e-framework's decoder), placed in ns and labelled with the run.
func Objects(manifests []byte, ns string, labels map[string]string) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifests)))
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split manifests: document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		// Not decoder.MutateLabels: it edits the map GetLabels returns, which
		// for unstructured objects is a copy, so the labels are lost.
		opts := []decoder.DecodeOption{decoder.MutateOption(func(o k8s.Object) error {
			l := o.GetLabels()
			if l == nil {
				l = make(map[string]string, len(labels))
			}
			maps.Copy(l, labels)
			o.SetLabels(l)
			return nil
		})}
		if ns != "" {
			opts = append(opts, decoder.MutateNamespace(ns))
		}
		if err := decoder.Decode(bytes.NewReader(doc), u, opts...); err != nil {
			return nil, fmt.Errorf("decode document %d: %w", i, err)
		}
		if u.GetKind() == "" {
			continue
		}
		objs = append(objs, u)
	}
}

// ID names an object as Kind/name.
func ID(u *unstructured.Unstructured) string { return u.GetKind() + "/" + u.GetName() }

// Apply server-side applies every object (field manager "regen", forced
// ownership). With dryRun the server validates, defaults and admits them but
// persists nothing. Errors name the object; all are reported together.
func (d *Deployer) Apply(ctx context.Context, objs []*unstructured.Unstructured, dryRun bool) error {
	var errs []error
	for _, u := range objs {
		data, err := json.Marshal(u.Object)
		if err != nil {
			errs = append(errs, fmt.Errorf("apply %s: encode: %w", ID(u), err))
			continue
		}
		target := u.DeepCopy()
		err = d.res.Patch(ctx, target, k8s.Patch{PatchType: types.ApplyPatchType, Data: data}, func(o *metav1.PatchOptions) {
			o.FieldManager = FieldManager
			force := true
			o.Force = &force
			if dryRun {
				o.DryRun = []string{metav1.DryRunAll}
			}
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("apply %s: %w", ID(u), err))
		}
	}
	return errors.Join(errs...)
}

// WaitRollout waits until every Deployment among objs is Available with all
// replicas updated and available, observed at its current generation.
func (d *Deployer) WaitRollout(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration) error {
	cond := conditions.New(d.res)
	for _, u := range objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace()}}
		last := ""
		err := wait.For(cond.ResourceMatch(dep, func(o k8s.Object) bool {
			dp := o.(*appsv1.Deployment)
			done, detail := rolledOut(dp)
			last = detail
			return done
		}), wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(100*time.Millisecond), wait.WithImmediate())
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("rollout of %s: %w", ID(u), context.Cause(ctx))
			}
			return &TimeoutError{Phase: "rollout of " + ID(u), After: timeout, Detail: last}
		}
	}
	return nil
}

// rolledOut is kubectl rollout status's test, with what is still missing.
func rolledOut(dp *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if dp.Spec.Replicas != nil {
		want = *dp.Spec.Replicas
	}
	s := dp.Status
	detail := fmt.Sprintf("generation %d observed %d, replicas %d updated %d ready %d available %d of %d",
		dp.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas, want)
	if s.ObservedGeneration < dp.Generation || s.UpdatedReplicas < want || s.AvailableReplicas < want || s.Replicas > s.UpdatedReplicas {
		return false, detail
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return true, detail
		}
	}
	return false, detail + ", Available condition not true"
}

// ProvisionFakeVolumes binds every PersistentVolumeClaim among objs to a new
// hostPath PersistentVolume reserved for it (claimRef). A local control plane
// has no storage provisioner; without this, pods with claims never schedule.
// The volumes carry the namespace's run label and Teardown deletes them.
func (d *Deployer) ProvisionFakeVolumes(ctx context.Context, objs []*unstructured.Unstructured, runID string) error {
	for _, u := range objs {
		if u.GetKind() != "PersistentVolumeClaim" {
			continue
		}
		size, _, _ := unstructured.NestedString(u.Object, "spec", "resources", "requests", "storage")
		q, err := resource.ParseQuantity(size)
		if err != nil {
			return fmt.Errorf("fake volume for %s: size %q: %w", ID(u), size, err)
		}
		modes, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "accessModes")
		am := make([]corev1.PersistentVolumeAccessMode, len(modes))
		for i, m := range modes {
			am[i] = corev1.PersistentVolumeAccessMode(m)
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{
				Name:   u.GetNamespace() + "-" + u.GetName(),
				Labels: map[string]string{LabelRunID: labelValue(runID), "regen.dev/namespace": u.GetNamespace(), LabelManagedBy: FieldManager},
			},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: q},
				AccessModes:                   am,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: u.GetNamespace(), Name: u.GetName()},
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/regen-fake/" + u.GetNamespace() + "/" + u.GetName()}},
			},
		}
		if _, err := d.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{FieldManager: FieldManager}); err != nil {
			return fmt.Errorf("fake volume for %s: %w", ID(u), err)
		}
	}
	return nil
}

// StopWorkloads deletes ns's Deployments and waits (up to timeout) until
// their ReplicaSets and every pod in ns are gone: with a real kubelet, the
// containers are stopped and their sandboxes' networks torn down.
func (d *Deployer) StopWorkloads(ctx context.Context, ns string, timeout time.Duration) error {
	t0 := time.Now()
	bg := metav1.DeletePropagationBackground
	if err := d.cs.AppsV1().Deployments(ns).DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &bg}, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("stop workloads in %s: %w", ns, err)
	}
	last := ""
	err := wait.For(func(ctx context.Context) (bool, error) {
		rs, err := d.cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		pods, err := d.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		last = fmt.Sprintf("%d replica sets, %d pods left", len(rs.Items), len(pods.Items))
		return len(rs.Items) == 0 && len(pods.Items) == 0, nil
	}, wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(100*time.Millisecond), wait.WithImmediate())
	if err != nil {
		return &TimeoutError{Phase: "stopping the workloads in " + ns, After: timeout, Detail: last}
	}
	d.Log.Debug("workloads stopped", "namespace", ns, "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// Teardown deletes ns (and any fake volumes made for it) and waits until
// they are gone.
func (d *Deployer) Teardown(ctx context.Context, ns string, timeout time.Duration) error {
	// Workloads first: the namespace controller, finding pods still
	// terminating, waits half their grace period (the executor's is 60 s)
	// before it looks again, while a kubelet stops an idle executor in about
	// a second.
	if err := d.StopWorkloads(ctx, ns, timeout/2); err != nil {
		d.Log.Debug("teardown: workloads not stopped first", "namespace", ns, "err", err)
	}
	fg := metav1.DeletePropagationForeground
	err := d.cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &fg})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("teardown %s: %w", ns, err)
	}
	sel := "regen.dev/namespace=" + ns
	if err := d.cs.CoreV1().PersistentVolumes().DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: sel}); err != nil {
		return fmt.Errorf("teardown %s: delete fake volumes: %w", ns, err)
	}
	last := ""
	err = wait.For(func(ctx context.Context) (bool, error) {
		n, err := d.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			pvs, err := d.cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return false, err
			}
			last = fmt.Sprintf("namespace gone, %d fake volumes left", len(pvs.Items))
			return len(pvs.Items) == 0, nil
		}
		if err != nil {
			return false, err
		}
		last = "namespace " + string(n.Status.Phase)
		for _, c := range n.Status.Conditions {
			if c.Status == corev1.ConditionTrue {
				last += "; " + string(c.Type) + ": " + c.Message
			}
		}
		return false, nil
	}, wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(200*time.Millisecond), wait.WithImmediate())
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("teardown %s: %w", ns, context.Cause(ctx))
		}
		return &TimeoutError{Phase: "teardown of namespace " + ns, After: timeout, Detail: last}
	}
	return nil
}
