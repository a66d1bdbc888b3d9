package kind_test

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

	"github.com/regen-dev/regen/runner/report"
	clustertarget "github.com/regen-dev/regen/runner/target/cluster"
	"github.com/regen-dev/regen/suites/internal/clustersuite"
)

// The suite's own cluster name: a developer's "regen" cluster is not touched.
const clusterName = "regen-suite"

func newTarget(runDir, kustomize string, rollout time.Duration, notes *[]string) *clustertarget.Target {
	return clustersuite.NewTarget(clustertarget.Options{Mode: clustertarget.ModeKind, KindName: clusterName}, repo, exeDir, runDir, kustomize, rollout, notes)
}

var _ = Describe("the dev overlay on a kind cluster from the offline node image", Ordered, Serial, func() {
	It("replays the fixture suite inside a pod on the kind node and passes against the cpu goldens", func(ctx SpecContext) {
		runDir := GinkgoT().TempDir()
		var notes []string
		var podChecked bool
		tgt := clustersuite.Observed{Target: newTarget(runDir, filepath.Join(repo, "kustomize"), 3*time.Minute, &notes), Check: func(ctx context.Context, t *clustertarget.Target) {
			defer GinkgoRecover()
			cs, err := kubernetes.NewForConfig(t.RestConfig())
			Expect(err).NotTo(HaveOccurred())
			node, err := cs.CoreV1().Nodes().Get(ctx, clusterName+"-control-plane", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(node.Status.NodeInfo.ContainerRuntimeVersion).To(HavePrefix("containerd://1.6"), "Debian's containerd, in our node image")
			Expect(node.Status.NodeInfo.KubeletVersion).To(Equal("v1.37.2"))
			Expect(node.Status.NodeInfo.OSImage).To(ContainSubstring("bookworm"), "the debootstrapped rootfs")

			pods, err := cs.CoreV1().Pods(t.Namespace()).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=regen-executor"})
			Expect(err).NotTo(HaveOccurred())
			Expect(pods.Items).To(HaveLen(1))
			p := pods.Items[0]
			Expect(p.Spec.NodeName).To(Equal(node.Name))
			Expect(p.Status.PodIP).To(HavePrefix("10.244.0."), "an address from the node image's bridge CNI range")
			// The pod network lives inside the kind node's network namespace:
			// this host has no route of its own to 10.244.0.0/24 (only to the
			// node's address on kind's Docker network), so the run fell back to
			// a port-forward, and said why: only the default route covers the
			// pod IP, so it is never probed (on our CI machines the default
			// gateway is an egress proxy that would answer any address).
			routes := t.Routes()
			Expect(routes).To(HaveLen(1))
			Expect(routes[0]).To(MatchFields(IgnoreExtras, Fields{
				"Pod": Equal(p.Name), "Direct": BeFalse(), "Addr": Equal(p.Status.PodIP + ":8188"),
				"URL": HavePrefix("http://127.0.0.1:"),
				"Why": MatchRegexp(`^pod IP ` + regexp.QuoteMeta(p.Status.PodIP) + `:8188 not reachable from this host: (only this host's default route covers it|no route to it)`),
			}))
			c := p.Status.ContainerStatuses[0]
			Expect(c.Ready).To(BeTrue())
			Expect(c.RestartCount).To(BeZero())
			Expect(c.ContainerID).To(HavePrefix("containerd://"))
			Expect(c.Image).To(Equal("docker.io/library/regen-executor:dev"), "the image loaded from the OCI archive")
			logs, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "executor"}).DoRaw(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(logs)).To(ContainSubstring(`"msg":"serving"`))
			expectClusterDNS(ctx, t.RestConfig(), cs)
			expectLocalPathStorage(ctx, cs, t.Namespace())
			podChecked = true
		}}
		rec := clustersuite.RunFixtures(ctx, repo, tgt, runDir, nil, "kind run (create, load, rollout, replay, delete)")
		Expect(podChecked).To(BeTrue())
		Expect(len(rec.Cases)).To(BeNumerically(">=", 20))
		for _, c := range rec.Cases {
			Expect(c.Verdict).To(Equal(report.Pass), "%s: %s %s", c.ID, c.Verdict, c.Reason)
		}
		all := strings.Join(notes, "\n")
		Expect(all).To(ContainSubstring("--cluster kind: asked for"), "the run says kind and why")
		Expect(all).To(ContainSubstring("kind cluster " + clusterName + " created"))
		Expect(all).To(ContainSubstring("loaded into kind"))
		Expect(all).To(ContainSubstring("kind cluster " + clusterName + " deleted"))
		Expect(all).To(MatchRegexp(`(?m)^replaying via port-forward: pod IP 10\.244\.0\.\d+:8188 not reachable from this host: (only this host's default route covers it|no route to it)`))
		Expect(rec.Endpoints).To(ConsistOf(HavePrefix("http://127.0.0.1:")), "the loopback end of the port-forward")
	}, NodeTimeout(12*time.Minute))

	It("collects the pod's and the node's logs when the executor crashes, then deletes the cluster", func(ctx SpecContext) {
		kz := clustersuite.CrashingOverlays(repo)

		runDir := GinkgoT().TempDir()
		var notes []string
		tgt := newTarget(runDir, kz, 40*time.Second, &notes)
		_, err := tgt.Start(ctx)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("rollout"))
		Expect(tgt.Close()).To(Succeed())

		diag := clustersuite.Diagnostics(runDir, "kind-node")
		Expect(diag).To(ContainSubstring("flag provided but not defined: -no-such-flag"), "the container's own log, fetched from the kubelet")
		// kind export logs: the node's journal, kubelet and containerd logs.
		node := filepath.Join(runDir, "cluster", "kind-node", clusterName+"-control-plane")
		Expect(filepath.Join(node, "kubelet.log")).To(BeAnExistingFile())
		Expect(filepath.Join(node, "containerd.log")).To(BeAnExistingFile())
		Expect(strings.Join(notes, "\n")).To(ContainSubstring("kind cluster " + clusterName + " deleted"))
	}, NodeTimeout(8*time.Minute))
})
