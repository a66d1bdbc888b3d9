package hostnode_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regen-dev/regen/runner/kube"
	"github.com/regen-dev/regen/runner/report"
	clustertarget "github.com/regen-dev/regen/runner/target/cluster"
	"github.com/regen-dev/regen/suites/internal/clustersuite"
)

func newTarget(runDir, kustomize string, rollout time.Duration, notes *[]string) *clustertarget.Target {
	return clustersuite.NewTarget(clustertarget.Options{Mode: clustertarget.ModeHost, KubeBin: binDir}, repo, exeDir, runDir, kustomize, rollout, notes)
}

var _ = Describe("the dev overlay on a host node", Ordered, Serial, func() {
	It("replays the fixture suite inside a real pod and passes against the cpu goldens", func(ctx SpecContext) {
		before := readHostState(ctx)
		runDir := GinkgoT().TempDir()
		var notes []string
		var podChecked bool
		tgt := clustersuite.Observed{Target: newTarget(runDir, filepath.Join(repo, "kustomize"), 2*time.Minute, &notes), Check: func(ctx context.Context, t *clustertarget.Target) {
			defer GinkgoRecover()
			cs, err := kubernetes.NewForConfig(t.RestConfig())
			Expect(err).NotTo(HaveOccurred())
			node, err := cs.CoreV1().Nodes().Get(ctx, kube.HostNodeName, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(node.Status.NodeInfo.ContainerRuntimeVersion).To(HavePrefix("containerd://"), "a real runtime, not kwok")
			Expect(node.Annotations).NotTo(HaveKey("kwok.x-k8s.io/node"))

			pods, err := cs.CoreV1().Pods(t.Namespace()).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=regen-executor"})
			Expect(err).NotTo(HaveOccurred())
			Expect(pods.Items).To(HaveLen(1))
			p := pods.Items[0]
			Expect(p.Spec.NodeName).To(Equal(kube.HostNodeName))
			Expect(p.Status.PodIP).To(HavePrefix("10.213.0."), "an address from the CNI bridge's host-local range")
			// The host routes to its own pods (regen0 is on this machine):
			// the run talks to the pod IP, not through a port-forward.
			routes := t.Routes()
			Expect(routes).To(HaveLen(1))
			Expect(routes[0]).To(MatchFields(IgnoreExtras, Fields{
				"Pod": Equal(p.Name), "Direct": BeTrue(), "Why": Equal("reachable from this host"),
				"Addr": Equal(p.Status.PodIP + ":8188"), "URL": Equal("http://" + p.Status.PodIP + ":8188"),
			}))
			c := p.Status.ContainerStatuses[0]
			Expect(c.Ready).To(BeTrue())
			Expect(c.RestartCount).To(BeZero())
			Expect(c.ContainerID).To(HavePrefix("containerd://"))
			Expect(c.Image).To(Equal("docker.io/library/regen-executor:dev"), "the image imported from the OCI archive")
			Expect(c.ImageID).To(HavePrefix("sha256:"))
			sc := p.Spec.Containers[0].SecurityContext
			Expect(sc).NotTo(BeNil())
			Expect(*sc.ReadOnlyRootFilesystem).To(BeTrue())
			Expect(p.Spec.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
			// The probes ran for real: the kubelet marked the pod Ready only
			// after the startup and readiness probes on /system_stats passed.
			var ready *corev1.PodCondition
			for i := range p.Status.Conditions {
				if p.Status.Conditions[i].Type == corev1.PodReady {
					ready = &p.Status.Conditions[i]
				}
			}
			Expect(ready).NotTo(BeNil())
			Expect(ready.Status).To(Equal(corev1.ConditionTrue))
			Expect(p.Spec.Containers[0].StartupProbe.HTTPGet.Path).To(Equal("/system_stats"))

			// Logs come from the container, through the kubelet.
			logs, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "executor"}).DoRaw(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(logs)).To(ContainSubstring(`"msg":"serving"`))
			// The kubelet's own events: the image was found on the machine, the container started.
			evs, err := cs.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + p.Name})
			Expect(err).NotTo(HaveOccurred())
			var reasons []string
			for _, e := range evs.Items {
				reasons = append(reasons, e.Reason+"/"+e.Source.Component)
			}
			Expect(reasons).To(ContainElements("Pulled/kubelet", "Started/kubelet"))
			podChecked = true
		}}
		rec := clustersuite.RunFixtures(ctx, repo, tgt, runDir, nil, "host node run (bring-up, rollout, replay, teardown)")
		Expect(podChecked).To(BeTrue())
		Expect(rec.Target).To(ContainSubstring("host node " + kube.HostNodeName))
		Expect(rec.Endpoints).To(ConsistOf(HavePrefix("http://10.213.0.")), "every case replayed by pod IP")
		Expect(len(rec.Cases)).To(BeNumerically(">=", 20))
		for _, c := range rec.Cases {
			Expect(c.Verdict).To(Equal(report.Pass), "%s: %s %s", c.ID, c.Verdict, c.Reason)
		}
		Expect(strings.Join(notes, "\n")).To(And(ContainSubstring("host node regen-host up"), ContainSubstring("host node down"), ContainSubstring("host restored"),
			MatchRegexp(`(?m)^replaying via pod IP 10\.213\.0\.\d+:8188 \(reachable from this host\)$`)))
		expectHostRestored(ctx, before)
	}, NodeTimeout(8*time.Minute))

	It("replays the websocket and /view cases through a forced port-forward", func(ctx SpecContext) {
		before := readHostState(ctx)
		runDir := GinkgoT().TempDir()
		var notes []string
		tgt := clustersuite.NewTarget(clustertarget.Options{Mode: clustertarget.ModeHost, KubeBin: binDir, PortForward: true}, repo, exeDir, runDir, filepath.Join(repo, "kustomize"), 2*time.Minute, &notes)
		// websocket: progress over /ws; image-ws: images over /ws; ui-img2img: an upload and /view.
		rec := clustersuite.RunFixtures(ctx, repo, tgt, runDir, regexp.MustCompile(`^(websocket|image-ws|ui-img2img)/`), "")
		Expect(rec.Cases).To(HaveLen(3))
		for _, c := range rec.Cases {
			Expect(c.Verdict).To(Equal(report.Pass), "%s: %s %s", c.ID, c.Verdict, c.Reason)
		}
		Expect(rec.Endpoints).To(ConsistOf(HavePrefix("http://127.0.0.1:")), "the loopback end of the port-forward")
		Expect(strings.Join(notes, "\n")).To(ContainSubstring("replaying via port-forward: forced by --port-forward"))
		expectHostRestored(ctx, before)
	}, NodeTimeout(5*time.Minute))

	It("collects real pod logs and events when the executor crashes, then restores the host", func(ctx SpecContext) {
		before := readHostState(ctx)
		// A copy of the overlays whose executor is started with a flag it
		// does not know: it exits at once, the kubelet restarts it and backs off.
		kz := clustersuite.CrashingOverlays(repo)

		runDir := GinkgoT().TempDir()
		var notes []string
		tgt := newTarget(runDir, kz, 25*time.Second, &notes)
		_, err := tgt.Start(ctx)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("rollout"))
		Expect(tgt.Close()).To(Succeed())

		// The collectors wrote what they saw before the teardown.
		diag := clustersuite.Diagnostics(runDir, "")
		Expect(diag).To(ContainSubstring("flag provided but not defined: -no-such-flag"), "the container's own log, fetched from the kubelet")
		Expect(diag).To(Or(ContainSubstring("BackOff"), ContainSubstring("CrashLoopBackOff")), "the kubelet's back-off, from events or the waiting reason")
		// The node's own logs travel with the report; its state dir is gone.
		Expect(filepath.Join(runDir, "cluster", "host-node", "kubelet.log")).To(BeAnExistingFile())
		Expect(filepath.Join(runDir, "cluster", "host-node", "containerd.log")).To(BeAnExistingFile())
		Expect(strings.Join(notes, "\n")).To(ContainSubstring("host restored"))
		expectHostRestored(ctx, before)
	}, NodeTimeout(5*time.Minute))
})
