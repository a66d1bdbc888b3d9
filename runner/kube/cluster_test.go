package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestPKI(t *testing.T) {
	dir := t.TempDir()
	p, err := makePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p.CAPEM) {
		t.Fatal("CA PEM does not parse")
	}
	tests := []struct {
		name, cert, key string
		usage           x509.ExtKeyUsage
		host            string
		org             string
	}{
		{"serving", p.ServingCert, p.ServingKey, x509.ExtKeyUsageServerAuth, "127.0.0.1", ""},
		{"serving by name", p.ServingCert, p.ServingKey, x509.ExtKeyUsageServerAuth, "kubernetes.default.svc", ""},
		{"admin", p.AdminCert, p.AdminKey, x509.ExtKeyUsageClientAuth, "", "system:masters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pair, err := tls.LoadX509KeyPair(tc.cert, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			leaf := pair.Leaf
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: tc.host, KeyUsages: []x509.ExtKeyUsage{tc.usage}}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if tc.org != "" && (len(leaf.Subject.Organization) != 1 || leaf.Subject.Organization[0] != tc.org) {
				t.Fatalf("organization = %v, want %s", leaf.Subject.Organization, tc.org)
			}
		})
	}
	for _, f := range []string{p.SAKey, p.SAPub, p.CAKey} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode %v: keys must not be group/world readable", filepath.Base(f), st.Mode())
		}
	}
}

func TestNamespaceName(t *testing.T) {
	tests := []struct{ env, run, prefix string }{
		{"dev", "20261129-042800-abc", "regen-dev-20261129-042800-abc-"},
		{"gpu", "Run_ID/With.Odd CHARS", "regen-gpu-run-id-with-odd-chars-"},
		{"prod", "", "regen-prod-"},
		{"dev", strings.Repeat("x", 100), "regen-dev-" + strings.Repeat("x", 30) + "-"},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			a, b := NamespaceName(tc.env, tc.run), NamespaceName(tc.env, tc.run)
			if errs := validation.IsDNS1123Label(a); len(errs) > 0 {
				t.Fatalf("%q: %v", a, errs)
			}
			if !strings.HasPrefix(a, tc.prefix) || len(a) != len(tc.prefix)+5 {
				t.Fatalf("%q: want prefix %q and 5 random characters", a, tc.prefix)
			}
			if a == b {
				t.Fatalf("two calls gave the same name %q", a)
			}
		})
	}
}

func TestLabelValue(t *testing.T) {
	for _, in := range []string{"20261129T042800Z", "run/with spaces", strings.Repeat("a", 80) + "-", "_x_"} {
		got := labelValue(in)
		if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
			t.Errorf("labelValue(%q) = %q: %v", in, got, errs)
		}
	}
}

func TestRolledOut(t *testing.T) {
	one := int32(1)
	available := []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
	tests := []struct {
		name   string
		gen    int64
		status appsv1.DeploymentStatus
		want   bool
	}{
		{"done", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, Conditions: available}, true},
		{"old generation", 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, Conditions: available}, false},
		{"not available", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1}, false},
		{"old pod still there", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1, Conditions: available}, false},
		{"no condition", 1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: tc.gen}, Spec: appsv1.DeploymentSpec{Replicas: &one}, Status: tc.status}
			if got, detail := rolledOut(d); got != tc.want {
				t.Fatalf("rolledOut = %v (%s), want %v", got, detail, tc.want)
			}
		})
	}
}

func TestObjects(t *testing.T) {
	manifests := []byte(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: a
  labels: {keep: me}
---
# only a comment
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: b
spec: {}
`)
	objs, err := Objects(manifests, "ns1", map[string]string{LabelRunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("got %d objects, want 2", len(objs))
	}
	for _, u := range objs {
		if u.GetNamespace() != "ns1" || u.GetLabels()[LabelRunID] != "r1" {
			t.Errorf("%s: namespace %q labels %v", ID(u), u.GetNamespace(), u.GetLabels())
		}
	}
	if objs[0].GetLabels()["keep"] != "me" || ID(objs[1]) != "Deployment/b" {
		t.Errorf("objects changed: %v, %s", objs[0].GetLabels(), ID(objs[1]))
	}
	if _, err := Objects([]byte("kind: [unclosed"), "ns", nil); err == nil {
		t.Error("broken YAML decoded without error")
	}
}

func TestNodeObject(t *testing.T) {
	gpu := Node{Name: "g", GPUs: 2}.Object()
	if q := gpu.Status.Allocatable[GPUResource]; q.Cmp(resource.MustParse("2")) != 0 {
		t.Errorf("gpu allocatable = %v, want 2", q.String())
	}
	if len(gpu.Spec.Taints) != 1 || gpu.Labels["nvidia.com/gpu.present"] != "true" || gpu.Annotations[kwokAnnotation] != "fake" {
		t.Errorf("gpu node: taints %v labels %v annotations %v", gpu.Spec.Taints, gpu.Labels, gpu.Annotations)
	}
	cpu := Node{Name: "c"}.Object()
	if _, ok := cpu.Status.Allocatable[GPUResource]; ok || len(cpu.Spec.Taints) != 0 {
		t.Errorf("cpu node has GPU capacity or taints: %v %v", cpu.Status.Allocatable, cpu.Spec.Taints)
	}
}

func TestCheckBinaries(t *testing.T) {
	dir := t.TempDir()
	err := CheckBinaries(dir)
	if !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("empty dir: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "stages"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range Binaries {
		if err := os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"node-fast.yaml", "pod-fast.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, "stages", s), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := CheckBinaries(dir); err != nil {
		t.Fatalf("complete dir: %v", err)
	}
}

// TestScriptVersions keeps hack/controlplane.sh's cache key and
// DefaultBinDir in step.
func TestScriptVersions(t *testing.T) {
	b, err := os.ReadFile("../../hack/controlplane.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"kube_version": KubeVersion, "etcd_version": EtcdVersion, "kwok_version": KwokVersion} {
		if !regexp.MustCompile(`(?m)^` + name + `=` + regexp.QuoteMeta(v) + `$`).Match(b) {
			t.Errorf("hack/controlplane.sh: %s is not %s", name, v)
		}
	}
}

func TestDiagnosticsWrite(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)
	g := &Diagnostics{Namespace: "ns", Pods: []PodReport{{Name: "p", Phase: "Pending", Conditions: []string{"PodScheduled=False Unschedulable: 0/2 nodes"}}},
		Events: []Event{{Time: t0, Type: "Warning", Reason: "FailedScheduling", Object: "Pod/p", Message: "0/2 nodes", Count: 3}}}
	var b strings.Builder
	if err := g.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pod p: Pending on (not scheduled)", "condition PodScheduled=False Unschedulable", "FailedScheduling", "(x3)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// TestUpDown brings the real control plane up with one fake node and down
// again. It skips when the binaries are not built.
func TestUpDown(t *testing.T) {
	bin := DefaultBinDir()
	if err := CheckBinaries(bin); err != nil {
		t.Skipf("skip: %v", err)
	}
	if testing.Short() {
		t.Skip("skip: -short (starts a control plane)")
	}
	ctx := context.Background()
	state, err := os.MkdirTemp("", "regen-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = os.RemoveAll(state)
		}
	})
	c, err := Up(ctx, Options{BinDir: bin, StateDir: state, Nodes: []Node{{Name: "n0"}}})
	if err != nil {
		t.Fatalf("%v (state kept in %s)", err, state)
	}
	pids := c.PIDs()
	if len(pids) != len(Binaries) {
		t.Errorf("PIDs = %v, want one per binary", pids)
	}
	d, err := NewDeployer(c.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Clientset().CoreV1().Nodes().Get(ctx, "n0", metav1.GetOptions{}); err != nil {
		t.Errorf("node: %v", err)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil {
			if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); !strings.Contains(string(b), ") Z ") {
				t.Errorf("%s (pid %d) still running after Down", name, pid)
			}
		}
	}
}

func TestDefaultTimeouts(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]time.Duration{"dev": 2 * time.Minute, "prod": 5 * time.Minute, "comfyui-cpu": 5 * time.Minute, "gpu": 10 * time.Minute, "comfyui": 10 * time.Minute} {
		if got := DefaultTimeouts(env).Rollout; got != want {
			t.Errorf("DefaultTimeouts(%q).Rollout = %v, want %v", env, got, want)
		}
	}
}
