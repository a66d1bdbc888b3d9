package e2e_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/regen-dev/regen/runner/kube"
)

// executorPods lists the executor's pods in ns.
func executorPods(ctx SpecContext, ns string) []corev1.Pod {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=regen-executor"})
	Expect(err).NotTo(HaveOccurred())
	return pods.Items
}

func expectNamespaceGone(ctx SpecContext, ns string) {
	_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	Expect(apierrors.IsNotFound(err)).To(BeTrue(), "namespace %s still exists (err %v)", ns, err)
}

var _ = Describe("deploying the overlays", Ordered, func() {
	DescribeTable("an overlay applies, rolls out on kwok nodes and tears down",
		func(ctx SpecContext, env, wantNode string) {
			start := time.Now()
			rel, err := deployer.Deploy(ctx, kube.DeployOptions{
				Env: env, RunID: "e2e-" + env, Manifests: render(ctx, env), FakeVolumes: true,
				Timeouts: kube.Timeouts{Rollout: 30 * time.Second}, DiagnosticsDir: artifactsDir(env),
			}, true)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry(env+" apply / rollout", rel.Applied.Round(time.Millisecond).String()+" / "+rel.RolledOut.Round(time.Millisecond).String())

			ns, err := cs.CoreV1().Namespaces().Get(ctx, rel.Namespace, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(ns.Labels).To(HaveKeyWithValue(kube.LabelRunID, "e2e-"+env))
			Expect(ns.Labels).To(HaveKeyWithValue(kube.LabelEnv, env))

			pods := executorPods(ctx, rel.Namespace)
			Expect(pods).To(HaveLen(1))
			Expect(pods[0].Spec.NodeName).To(Equal(wantNode))
			Expect(pods[0].Status.Phase).To(Equal(corev1.PodRunning))
			// Server-side defaulting happened (the API server, not our renderer, filled these).
			Expect(pods[0].Spec.Containers[0].TerminationMessagePath).To(Equal("/dev/termination-log"))

			// Applying the same manifests again is a no-op for server-side apply.
			objs, err := kube.Objects(render(ctx, env), rel.Namespace, map[string]string{kube.LabelRunID: "e2e-" + env, kube.LabelManagedBy: kube.FieldManager})
			Expect(err).NotTo(HaveOccurred())
			Expect(deployer.Apply(ctx, objs, false)).To(Succeed())

			Expect(deployer.Teardown(ctx, rel.Namespace, 30*time.Second)).To(Succeed())
			expectNamespaceGone(ctx, rel.Namespace)
			GinkgoWriter.Printf("%s: deploy+teardown %v\n", env, time.Since(start).Round(time.Millisecond))
		},
		Entry("dev on the CPU node", "dev", "kwok-cpu-0"),
		Entry("prod on the CPU node", "prod", "kwok-cpu-0"),
		Entry("gpu only on the fake GPU node", "gpu", "kwok-gpu-0"),
		Entry("comfyui (a real ComfyUI image in the gpu environment) only on the fake GPU node", "comfyui", "kwok-gpu-0"),
		Entry("comfyui-cpu (a real ComfyUI on CPU, dev otherwise) on the CPU node", "comfyui-cpu", "kwok-cpu-0"),
	)

	It("rejects a broken object in a server-side dry-run and persists nothing", func(ctx SpecContext) {
		ns := kube.NamespaceName("dev", "dry-run")
		Expect(deployer.CreateNamespace(ctx, ns, "dev", "dry-run")).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(deployer.Teardown(ctx, ns, 30*time.Second)).To(Succeed()) })

		good, err := kube.Objects(render(ctx, "dev"), ns, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(deployer.Apply(ctx, good, true)).To(Succeed())

		// Passes strict client-side decoding, but the API server's validation refuses it.
		broken := patchDeployment(render(ctx, "dev"), func(u *unstructured.Unstructured) {
			Expect(unstructured.SetNestedField(u.Object, "someone-else", "spec", "selector", "matchLabels", "app.kubernetes.io/name")).To(Succeed())
		})
		bad, err := kube.Objects(broken, ns, nil)
		Expect(err).NotTo(HaveOccurred())
		err = deployer.Apply(ctx, bad, true)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("Deployment/regen-executor"))
		Expect(err.Error()).To(ContainSubstring("selector"))
		Expect(err.Error()).To(ContainSubstring("does not match template"))

		_, err = cs.AppsV1().Deployments(ns).Get(ctx, "regen-executor", metav1.GetOptions{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "dry-run persisted the Deployment: %v", err)
	})

	It("collects the Pending reason and events on a forced failure, then tears down", func(ctx SpecContext) {
		manifests := patchDeployment(render(ctx, "dev"), func(u *unstructured.Unstructured) {
			Expect(unstructured.SetNestedStringMap(u.Object, map[string]string{"regen.dev/impossible": "true"}, "spec", "template", "spec", "nodeSelector")).To(Succeed())
		})
		dir := artifactsDir("forced-failure")
		rel, err := deployer.Deploy(ctx, kube.DeployOptions{
			Env: "dev", RunID: "e2e-forced-failure", Manifests: manifests, FakeVolumes: true,
			Timeouts: kube.Timeouts{Rollout: 5 * time.Second}, DiagnosticsDir: dir,
		}, false)
		Expect(err).To(HaveOccurred())
		te, ok := errors.AsType[*kube.TimeoutError](err)
		Expect(ok).To(BeTrue(), "want a *kube.TimeoutError, got %v", err)
		Expect(te.Phase).To(ContainSubstring("rollout of Deployment/regen-executor"))

		Expect(rel.Diagnostics).NotTo(BeNil())
		Expect(rel.Diagnostics.Pods).To(HaveLen(1))
		pod := rel.Diagnostics.Pods[0]
		Expect(pod.Phase).To(Equal("Pending"))
		Expect(pod.Node).To(BeEmpty())
		Expect(strings.Join(pod.Conditions, "\n")).To(ContainSubstring("PodScheduled=False Unschedulable"))
		Expect(strings.Join(pod.Conditions, "\n")).To(ContainSubstring("node affinity/selector"))
		var reasons []string
		for _, e := range rel.Diagnostics.Events {
			reasons = append(reasons, e.Reason)
		}
		Expect(reasons).To(ContainElement("FailedScheduling"))
		Expect(reasons).To(ContainElement("ScalingReplicaSet"))
		for i := 1; i < len(rel.Diagnostics.Events); i++ {
			Expect(rel.Diagnostics.Events[i].Time.Before(rel.Diagnostics.Events[i-1].Time)).To(BeFalse(), "events out of order")
		}
		status, err := os.ReadFile(filepath.Join(dir, "status.txt"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(status)).To(ContainSubstring("FailedScheduling"))
		saved, err := os.ReadFile(filepath.Join(dir, "manifests.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(saved)).To(ContainSubstring("regen.dev/impossible"))
		AddReportEntry("forced failure diagnostics", string(status))

		expectNamespaceGone(ctx, rel.Namespace)
	})

	It("keeps the GPU pod Pending with a clear reason while no GPU node exists", func(ctx SpecContext) {
		gpuNode, err := cs.CoreV1().Nodes().Get(ctx, "kwok-gpu-0", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(kube.DeleteNode(ctx, cs, gpuNode.Name)).To(Succeed())
		restored := false
		DeferCleanup(func(ctx SpecContext) {
			if !restored {
				Expect(kube.CreateNodes(ctx, cs, []kube.Node{{Name: "kwok-gpu-0", GPUs: 1}})).To(Succeed())
			}
		})

		rel, err := deployer.Deploy(ctx, kube.DeployOptions{
			Env: "gpu", RunID: "e2e-no-gpu", Manifests: render(ctx, "gpu"), FakeVolumes: true,
			Timeouts: kube.Timeouts{Rollout: 5 * time.Second},
		}, true) // keep: the same pod must schedule once the node is back
		DeferCleanup(func(ctx SpecContext) { Expect(deployer.Teardown(ctx, rel.Namespace, 30*time.Second)).To(Succeed()) })
		Expect(err).To(HaveOccurred())
		Expect(rel.Diagnostics.Pods).To(HaveLen(1))
		msg := strings.Join(rel.Diagnostics.Pods[0].Conditions, "\n")
		Expect(msg).To(ContainSubstring("Unschedulable"))
		Expect(msg).To(Or(ContainSubstring("nvidia.com/gpu"), ContainSubstring("node affinity/selector")))

		Expect(kube.CreateNodes(ctx, cs, []kube.Node{{Name: "kwok-gpu-0", GPUs: 1}})).To(Succeed())
		restored = true
		objs, err := kube.Objects(render(ctx, "gpu"), rel.Namespace, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(deployer.WaitRollout(ctx, objs, 30*time.Second)).To(Succeed())
		pods := executorPods(ctx, rel.Namespace)
		Expect(pods).To(HaveLen(1))
		Expect(pods[0].Spec.NodeName).To(Equal("kwok-gpu-0"))
	})

	It("records that kwok serves no container logs", func(ctx SpecContext) {
		rel, err := deployer.Deploy(ctx, kube.DeployOptions{
			Env: "dev", RunID: "e2e-logs", Manifests: render(ctx, "dev"), FakeVolumes: true,
		}, true)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(deployer.Teardown(ctx, rel.Namespace, 30*time.Second)).To(Succeed()) })
		diag, err := deployer.Collect(ctx, rel.Namespace, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(diag.Pods).To(HaveLen(1))
		Expect(diag.Pods[0].Containers).To(ContainElement(ContainSubstring("running, ready")))
		Expect(diag.Pods[0].LogErrors).NotTo(BeEmpty(), "kwok does not serve logs: the collector must say so")
	})

	// Last of the Ordered specs (not AfterAll, which runs before the previous
	// spec's DeferCleanup teardown).
	It("leaves no namespace or volume behind after teardown", func(ctx SpecContext) {
		nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.FieldManager})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			nss, err = cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.FieldManager})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(nss.Items).To(BeEmpty(), "namespaces left behind")
			pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.FieldManager})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pvs.Items).To(BeEmpty(), "fake volumes left behind")
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
	})
})
