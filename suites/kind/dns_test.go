package kind_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	clustertarget "github.com/regen-dev/regen/runner/target/cluster"
)

// expectClusterDNS checks the node's pod network reaches Services: CoreDNS
// lists Services and Endpoints from the apiserver through its Service IP
// (default/kubernetes, 10.96.0.1) from inside a pod, and reports Ready only
// once that works — with no route from the pods to the Service range it
// stays Running, never Ready. Then CoreDNS, port-forwarded, answers the
// apiserver Service's name with that Service's IP: a record it can only have
// from the API, fetched through the Service IP.
func expectClusterDNS(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface) {
	svc, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	apiIP, err := netip.ParseAddr(svc.Spec.ClusterIP)
	Expect(err).NotTo(HaveOccurred())
	Expect(netip.MustParsePrefix(clustertarget.RegenServiceSubnet).Contains(apiIP)).To(BeTrue(),
		"the apiserver's Service IP %s is in the range the node image routes", apiIP)

	start := time.Now()
	Eventually(func(g Gomega) {
		d, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d.Spec.Replicas).NotTo(BeNil())
		g.Expect(*d.Spec.Replicas).To(BeNumerically(">=", 1))
		g.Expect(d.Status.ReadyReplicas).To(Equal(*d.Spec.Replicas), "CoreDNS pods Ready")
	}).WithContext(ctx).WithTimeout(2*time.Minute).WithPolling(2*time.Second).Should(Succeed(),
		"CoreDNS must become Ready: it needs the apiserver through its Service IP %s from its pod", apiIP)
	AddReportEntry("CoreDNS Ready after the executor's rollout", time.Since(start).Round(time.Millisecond).String())

	pods, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
	Expect(err).NotTo(HaveOccurred())
	Expect(pods.Items).NotTo(BeEmpty())
	port, stop := forward(cfg, cs, "kube-system", pods.Items[0].Name, 53)
	defer close(stop)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		// A stream conn: the Go resolver speaks DNS over TCP on it (port-forward carries TCP only).
		var d net.Dialer
		return d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	}}
	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(lctx, "kubernetes.default.svc.cluster.local.")
	Expect(err).NotTo(HaveOccurred(), "CoreDNS answers for the apiserver's Service")
	Expect(addrs).To(ConsistOf(apiIP.String()))

	// What a pod still addresses to the Service range after kube-proxy's DNAT is
	// refused in the node, not routed on (hack/kindnode/regen-node-checks).
	docker := "/usr/bin/docker"
	if _, err := os.Stat(docker); err != nil {
		docker = "docker"
	}
	out, err := exec.CommandContext(ctx, docker, "exec", clusterName+"-control-plane", "ip", "rule", "list", "pref", "100").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "docker exec ip rule: %s", out)
	Expect(string(out)).To(ContainSubstring("to "+clustertarget.RegenServiceSubnet+" iif cni0 unreachable"), "the node's rule for un-DNATed Service traffic from the pods")
}

// forward port-forwards a free loopback port to a pod's port; close the
// returned channel to stop it.
func forward(cfg *rest.Config, cs kubernetes.Interface, ns, pod string, podPort int) (int, chan struct{}) {
	rt, upgrader, err := spdy.RoundTripperFor(cfg)
	Expect(err).NotTo(HaveOccurred())
	u := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	var errOut strings.Builder
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", podPort)}, stop, ready, io.Discard, &errOut)
	Expect(err).NotTo(HaveOccurred())
	errc := make(chan error, 1)
	go func() { errc <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errc:
		Fail(fmt.Sprintf("port-forward %s/%s: %v %s", ns, pod, err, errOut.String()))
	case <-time.After(30 * time.Second):
		close(stop)
		Fail(fmt.Sprintf("port-forward %s/%s: not ready in 30s", ns, pod))
	}
	ports, err := fw.GetPorts()
	Expect(err).NotTo(HaveOccurred())
	Expect(ports).NotTo(BeEmpty())
	return int(ports[0].Local), stop
}
