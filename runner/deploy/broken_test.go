package deploy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/regen-dev/regen/internal/testutil"
)

// copyKustomize copies the repository's kustomize tree into a temp dir.
func copyKustomize(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "kustomize")
	if err := os.CopyFS(dst, os.DirFS(testutil.Path(t, "kustomize"))); err != nil {
		t.Fatalf("copy kustomize tree: %v", err)
	}
	return dst
}

// edit is one change to a file of the copied tree: replace old with new
// (old must occur, so that a stale edit cannot silently test nothing), or
// write the whole file when old is empty.
type edit struct {
	file, old, new string
}

func (e edit) apply(t *testing.T, root string) {
	t.Helper()
	p := filepath.Join(root, e.file)
	if e.old == "" {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(e.new), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), e.old) {
		t.Fatalf("%s does not contain %q: the test's edit is stale", e.file, e.old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), e.old, e.new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrokenOverlays breaks a copy of the shipped overlays in one way each and
// expects validation to name the environment, the object, the field and the fix.
func TestBrokenOverlays(t *testing.T) {
	tests := []struct {
		name  string
		env   string
		edits []edit
		want  []string // substrings of the error, all required
	}{
		{
			name: "gpu request without limit",
			env:  "gpu",
			edits: []edit{{"components/gpu/deployment-patch.yaml", `
            limits:
              nvidia.com/gpu: "1"`, ""}},
			want: []string{"environment gpu", "Deployment/regen-executor", "containers[executor].resources.limits[nvidia.com/gpu]", "missing while requests[nvidia.com/gpu] is 1; set the limit to 1"},
		},
		{
			name:  "gpu limit differs from request",
			env:   "gpu",
			edits: []edit{{"components/gpu/deployment-patch.yaml", "limits:\n              nvidia.com/gpu: \"1\"", "limits:\n              nvidia.com/gpu: \"2\""}},
			want:  []string{"gpu: Deployment/regen-executor", "limits[nvidia.com/gpu]: is 2 but the request is 1; make them equal"},
		},
		{
			name:  "gpu environment without the gpu component",
			env:   "gpu",
			edits: []edit{{"overlays/gpu/kustomization.yaml", "components:\n  - ../../components/gpu\n", ""}},
			want:  []string{"--backend=cpu in the gpu environment", "resources.limits[nvidia.com/gpu]: missing in the gpu environment", "no toleration for nvidia.com/gpu"},
		},
		{
			name: "nightly without ephemeral-storage (kube-score)",
			env:  "prod",
			edits: []edit{{"components/nightly/cronjob.yaml", `
                  ephemeral-storage: 512Mi`, ""}},
			want: []string{"prod: CronJob/regen-nightly: kube-score container-ephemeral-storage-request-and-limit: ephemeral-storage not set: regen limit", "waive it with a reason in kube-score.yaml"},
		},
		{
			name:  "nightly without its NetworkPolicy (kube-score)",
			env:   "gpu",
			edits: []edit{{"components/nightly/kustomization.yaml", "  - networkpolicy.yaml\n", ""}},
			want:  []string{"gpu: CronJob/regen-nightly: kube-score pod-networkpolicy: no NetworkPolicy selects the pod"},
		},
		{
			name:  "identical probes no longer waived (kube-score)",
			env:   "dev",
			edits: []edit{{"kube-score.yaml", "  - check: pod-probes-identical\n", "  - check: pod-probes-identical-x\n"}},
			want:  []string{"dev: Deployment/regen-executor: kube-score pod-probes-identical: container executor: readiness and liveness probe have the same handler"},
		},
		{
			name:  "waiver without a reason",
			env:   "dev",
			edits: []edit{{"kube-score.yaml", "", "waivers:\n  - check: container-resources\n"}},
			want:  []string{"kube-score.yaml: waiver 1 needs a check and a reason"},
		},
		{
			name: "comfyui on CPU without --cpu",
			env:  "dev",
			edits: []edit{{"overlays/dev/kustomization.yaml", "components:\n  - ../../components/nightly\n",
				"components:\n  - ../../components/nightly\n  - ../../components/comfyui\n"}},
			want: []string{"dev: Deployment/regen-executor: spec.template.spec.containers[executor].args: no GPU and no --cpu"},
		},
		{
			name:  "comfyui user directory that does not exist",
			env:   "comfyui",
			edits: []edit{{"components/comfyui/kustomization.yaml", "- --user-directory=/tmp\n", "- --user-directory=/tmp/comfyui-user\n"}},
			want:  []string{"--user-directory=/tmp/comfyui-user is not a mount point; ComfyUI 0.33.0 refuses a user directory that does not exist"},
		},
		{
			name:  "comfyui on loopback",
			env:   "comfyui",
			edits: []edit{{"components/comfyui/kustomization.yaml", "- --listen=0.0.0.0", "- --listen=127.0.0.1"}},
			want:  []string{"comfyui: Deployment/regen-executor: spec.template.spec.containers[executor].args", "ComfyUI listens on 127.0.0.1 unless told otherwise (--listen=127.0.0.1); set --listen=0.0.0.0"},
		},
		{
			name:  "comfyui writes into its image",
			env:   "comfyui",
			edits: []edit{{"components/comfyui/kustomization.yaml", "          - --output-directory=/output\n", ""}},
			want:  []string{"no --output-directory: ComfyUI would write under its install folder on a read-only root filesystem"},
		},
		{
			name:  "comfyui --cpu next to a GPU",
			env:   "comfyui",
			edits: []edit{{"components/comfyui/kustomization.yaml", "          - --disable-auto-launch\n", "          - --disable-auto-launch\n          - --cpu\n"}},
			want:  []string{"holds nvidia.com/gpu but runs ComfyUI with --cpu; drop --cpu"},
		},
		{
			name:  "comfyui without the gpu component",
			env:   "comfyui",
			edits: []edit{{"overlays/gpu/kustomization.yaml", "components:\n  - ../../components/gpu\n", ""}},
			want:  []string{"comfyui: Deployment/regen-executor", "resources.limits[nvidia.com/gpu]: missing in the comfyui environment", "no toleration for nvidia.com/gpu"},
		},
		{
			name:  "comfyui without the models PVC",
			env:   "comfyui",
			edits: []edit{{"overlays/prod/kustomization.yaml", "  - ../../components/models\n", ""}},
			want:  []string{"no volume at /models in comfyui; include ../../components/models"},
		},
		{
			name:  "comfyui image left unpinned",
			env:   "comfyui",
			edits: []edit{{"overlays/comfyui/kustomization.yaml", "    newTag: v0.33.0\n", ""}},
			want:  []string{"comfyui: Deployment/regen-executor: spec.template.spec.containers[executor].image", "is not pinned in comfyui"},
		},
		{
			name:  "cuda backend without a GPU",
			env:   "prod",
			edits: []edit{{"base/deployment.yaml", "value: cpu", "value: cuda"}},
			want:  []string{"prod: Deployment/regen-executor", "runs --backend=cuda without a GPU; add the gpu component"},
		},
		{
			name:  "selector mismatch",
			env:   "dev",
			edits: []edit{{"base/deployment.yaml", "    matchLabels:\n      app.kubernetes.io/name: regen-executor", "    matchLabels:\n      app.kubernetes.io/name: regen-executr"}},
			want:  []string{"dev: Deployment/regen-executor: spec.selector", "does not match the pod template's labels", "make spec.selector.matchLabels a subset of spec.template.metadata.labels"},
		},
		{
			name:  "service selects nothing",
			env:   "dev",
			edits: []edit{{"base/service.yaml", "  selector:\n    app.kubernetes.io/name: regen-executor", "  selector:\n    app.kubernetes.io/name: executor"}},
			want:  []string{"dev: Service/regen-executor: spec.selector: selects no pod"},
		},
		{
			name:  "deprecated bases",
			env:   "dev",
			edits: []edit{{"overlays/dev/kustomization.yaml", "resources:\n  - ../../base", "bases:\n  - ../../base"}},
			want:  []string{"environment dev", "overlays/dev/kustomization.yaml: deprecated field", "'bases' is deprecated. Please use 'resources' instead"},
		},
		{
			name: "patchesStrategicMerge",
			env:  "prod",
			edits: []edit{{"overlays/prod/kustomization.yaml", `patches:
  - path: deployment-patch.yaml
    target:
      kind: Deployment
      name: regen-executor`, "patchesStrategicMerge:\n  - deployment-patch.yaml"}},
			want: []string{"environment prod", "overlays/prod/kustomization.yaml: deprecated field", "'patchesStrategicMerge' is deprecated"},
		},
		{
			name:  "deprecated field in a component",
			env:   "prod",
			edits: []edit{{"components/models/kustomization.yaml", "kind: Component\n", "kind: Component\ncommonLabels:\n  tier: models\n"}},
			want:  []string{"components/models/kustomization.yaml: deprecated field", "'commonLabels' is deprecated"},
		},
		{
			name:  "unknown field in a Deployment",
			env:   "dev",
			edits: []edit{{"base/deployment.yaml", "  revisionHistoryLimit: 3\n", "  revisionHistoryLimit: 3\n  replica: 2\n"}},
			want:  []string{"environment dev", "Deployment/regen-executor", `unknown field "spec.replica"`},
		},
		{
			name:  "misspelled field in a pod template",
			env:   "prod",
			edits: []edit{{"base/deployment.yaml", "          readinessProbe:", "          readynessProbe:"}},
			want:  []string{"environment prod", "Deployment/regen-executor", `unknown field "spec.template.spec.containers[0].readynessProbe"`},
		},
		{
			name:  "deprecated apiVersion",
			env:   "prod",
			edits: []edit{{"components/autoscale/hpa.yaml", "autoscaling/v2", "autoscaling/v2beta2"}, {"overlays/prod/kustomization.yaml", "  - ../../components/nightly\n", "  - ../../components/nightly\n  - ../../components/autoscale\n"}},
			want:  []string{"HorizontalPodAutoscaler/regen-executor (apiVersion autoscaling/v2beta2): not a kind regen's overlays may use"},
		},
		{
			name: "missing startupProbe",
			env:  "prod",
			edits: []edit{{"base/deployment.yaml", `          startupProbe:
            httpGet:
              path: /system_stats
              port: 8188
            periodSeconds: 2
            timeoutSeconds: 2
            failureThreshold: 90
`, ""}},
			want: []string{"prod: Deployment/regen-executor: spec.template.spec.containers[executor].startupProbe: missing; add httpGet {path: /system_stats, port: 8188}"},
		},
		{
			name:  "probe on the wrong port",
			env:   "dev",
			edits: []edit{{"base/deployment.yaml", "          livenessProbe:\n            httpGet:\n              path: /system_stats\n              port: 8188", "          livenessProbe:\n            httpGet:\n              path: /system_stats\n              port: metrics"}},
			want:  []string{"containers[executor].livenessProbe.httpGet.port: is metrics (port 9090); use 8188"},
		},
		{
			name:  "root user",
			env:   "dev",
			edits: []edit{{"overlays/dev/deployment-patch.yaml", "    spec:\n      containers:", "    spec:\n      securityContext:\n        runAsUser: 0\n      containers:"}},
			want:  []string{"dev: Deployment/regen-executor: spec.template.spec.containers[executor].securityContext.runAsUser: runs as root (uid 0); set runAsUser: 65532"},
		},
		{
			name:  "writable root filesystem in the CronJob",
			env:   "dev",
			edits: []edit{{"components/nightly/cronjob.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"}},
			want:  []string{"dev: CronJob/regen-nightly: spec.jobTemplate.spec.template.spec.containers[regen].securityContext.readOnlyRootFilesystem: not true"},
		},
		{
			name:  "rolling update without the autoscale component",
			env:   "dev",
			edits: []edit{{"base/deployment.yaml", "    type: Recreate", "    type: RollingUpdate"}},
			want:  []string{"dev: Deployment/regen-executor: spec.strategy.type: is \"RollingUpdate\"; set Recreate"},
		},
		{
			name:  "unpinned image in prod",
			env:   "prod",
			edits: []edit{{"overlays/prod/kustomization.yaml", "    newName: ghcr.io/regen-dev/regen-executor\n    newTag: 0.1.0", "    newName: ghcr.io/regen-dev/regen-executor\n    newTag: latest"}},
			want:  []string{`prod: Deployment/regen-executor: spec.template.spec.containers[executor].image: "ghcr.io/regen-dev/regen-executor:latest" is not pinned`, "kustomize/overlays/prod/kustomization.yaml"},
		},
		{
			name:  "no NetworkPolicy in prod",
			env:   "prod",
			edits: []edit{{"overlays/prod/kustomization.yaml", "  - networkpolicy.yaml\n", ""}},
			want:  []string{"prod: Deployment/regen-executor: -: no Ingress NetworkPolicy selects its pods in prod"},
		},
		{
			name: "HPA while replicas is still set",
			env:  "dev",
			edits: []edit{
				{"overlays/dev/hpa.yaml", "", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: regen-executor\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: regen-executor\n  maxReplicas: 3\n"},
				{"overlays/dev/kustomization.yaml", "  - ../../base\n", "  - ../../base\n  - hpa.yaml\n"},
			},
			want: []string{"dev: Deployment/regen-executor: spec.replicas: set to 1 while a HorizontalPodAutoscaler owns the replicas; remove it"},
		},
		{
			name:  "executor listening on loopback",
			env:   "dev",
			edits: []edit{{"base/deployment.yaml", "--listen=0.0.0.0:8188", "--listen=127.0.0.1:8188"}},
			want:  []string{"dev: Deployment/regen-executor: spec.template.spec.containers[executor].args: --listen=127.0.0.1:8188; use --listen=0.0.0.0:8188"},
		},
		{
			name:  "scrape annotation on the wrong port",
			env:   "prod",
			edits: []edit{{"base/deployment.yaml", "prometheus.io/port: \"9090\"", "prometheus.io/port: \"8080\""}},
			want:  []string{"prod: Deployment/regen-executor: spec.template.metadata.annotations[prometheus.io/port]: is 8080 but the executor serves /metrics on \"0.0.0.0:9090\""},
		},
		{
			name:  "output folder on the read-only root filesystem",
			env:   "dev",
			edits: []edit{{"base/deployment.yaml", "            - name: output\n              mountPath: /output\n", ""}},
			want:  []string{"containers[executor].volumeMounts: --output=/output is not on a writable volume; mount an emptyDir at /output"},
		},
		{
			name:  "mount without a volume",
			env:   "dev",
			edits: []edit{{"base/deployment.yaml", "        - name: temp\n          emptyDir:\n            sizeLimit: 1Gi\n", ""}},
			want:  []string{"spec.template.spec.containers[executor].volumeMounts[temp]: names no volume of the pod"},
		},
		{
			name:  "init container mount without a volume",
			env:   "prod",
			edits: []edit{{"components/models/deployment-patch.yaml", "        - name: models-preload\n          configMap:\n            name: regen-models-preload\n", ""}},
			want:  []string{"prod: Deployment/regen-executor: spec.template.spec.initContainers[preload-models].volumeMounts[models-preload]: names no volume of the pod"},
		},
		{
			name:  "prod without the models component",
			env:   "prod",
			edits: []edit{{"overlays/prod/kustomization.yaml", "  - ../../components/models\n", ""}},
			want:  []string{"prod: Deployment/regen-executor: spec.template.spec.containers[executor].volumeMounts: --models=/models is not a mounted volume in prod; include ../../components/models"},
		},
		{
			name:  "writable models volume",
			env:   "gpu",
			edits: []edit{{"components/models/deployment-patch.yaml", "              mountPath: /models\n              readOnly: true", "              mountPath: /models"}},
			want:  []string{"gpu: Deployment/regen-executor: spec.template.spec.containers[executor].volumeMounts[models].readOnly: the executor only reads models"},
		},
		{
			name:  "remote resource",
			env:   "dev",
			edits: []edit{{"overlays/dev/kustomization.yaml", "  - ../../base\n", "  - ../../base\n  - https://github.com/example/manifests//deploy?ref=v1\n"}},
			want:  []string{"remote reference", "vendor it into kustomize/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyKustomize(t)
			for _, e := range tt.edits {
				e.apply(t, root)
			}
			dir, err := OverlayDir(root, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			_, err = RenderAndValidate(context.Background(), tt.env, dir)
			if err == nil {
				t.Fatalf("%s passed validation; want it rejected", tt.name)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestComfyUIOnCPU: the comfyui component also composes with dev (no GPU):
// with --cpu added, as its kustomization says, the overlay validates.
func TestComfyUIOnCPU(t *testing.T) {
	root := copyKustomize(t)
	for _, e := range []edit{
		{"overlays/dev/kustomization.yaml", "components:\n  - ../../components/nightly\n",
			"components:\n  - ../../components/nightly\n  - ../../components/comfyui\n"},
		{"overlays/dev/kustomization.yaml", "patches:\n", `patches:
  - target:
      kind: Deployment
      name: regen-executor
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --cpu
`},
	} {
		e.apply(t, root)
	}
	dir, err := OverlayDir(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	out, err := RenderAndValidate(context.Background(), "dev", dir)
	if err != nil {
		t.Fatalf("dev + comfyui + --cpu: %v", err)
	}
	if !strings.Contains(string(out), "- --cpu\n") || !strings.Contains(string(out), "regen.dev/server: comfyui") {
		t.Errorf("render lacks --cpu or the comfyui annotation:\n%s", out)
	}
}

// TestAutoscaleComponent adds the optional autoscale component to prod and
// gpu: it must validate (replicas left to the HPA, models PVC ReadWriteMany).
func TestAutoscaleComponent(t *testing.T) {
	for _, env := range []string{"prod", "gpu"} {
		t.Run(env, func(t *testing.T) {
			root := copyKustomize(t)
			edit{"overlays/prod/kustomization.yaml", "  - ../../components/nightly\n", "  - ../../components/nightly\n  - ../../components/autoscale\n"}.apply(t, root)
			dir, _ := OverlayDir(root, env)
			out, err := RenderAndValidate(context.Background(), env, dir)
			if err != nil {
				t.Fatalf("prod + autoscale: %v", err)
			}
			objs, err := Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			var sawHPA, sawRWX bool
			for _, o := range objs {
				switch v := o.Value.(type) {
				case *autoscalingv2.HorizontalPodAutoscaler:
					sawHPA = o.Name == "regen-executor"
				case *corev1.PersistentVolumeClaim:
					if o.Name == "regen-models" {
						sawRWX = slices.Equal(v.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany})
					}
				}
			}
			if !sawHPA || !sawRWX {
				t.Fatalf("autoscale render: HPA %v, ReadWriteMany models PVC %v; want both", sawHPA, sawRWX)
			}
		})
	}
}
