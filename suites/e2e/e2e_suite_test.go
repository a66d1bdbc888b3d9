package e2e_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/regen-dev/regen/runner/deploy"
	"github.com/regen-dev/regen/runner/kube"
)

func TestE2E(t *testing.T) {
	// Say so at the test level, where go test (and hack/test.sh's summary)
	// sees it, rather than only as skipped specs.
	if err := kube.CheckBinaries(kube.DefaultBinDir()); err != nil {
		t.Skipf("control plane not available: %v; enable: hack/controlplane.sh build", err)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "E2E (local control plane) Suite")
}

var (
	plane    *kube.Cluster // process 1 only
	deployer *kube.Deployer
	cs       kubernetes.Interface
	skipWhy  string
)

const kustomizeRoot = "../../kustomize"

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	bin := kube.DefaultBinDir()
	if err := kube.CheckBinaries(bin); err != nil {
		return []byte("SKIP " + err.Error())
	}
	state, err := os.MkdirTemp("", "regen-e2e-")
	Expect(err).NotTo(HaveOccurred())
	log := slog.New(slog.NewTextHandler(GinkgoWriter, nil))
	start := time.Now()
	plane, err = kube.Up(ctx, kube.Options{BinDir: bin, StateDir: state, Nodes: kube.DefaultNodes(), Log: log})
	Expect(err).NotTo(HaveOccurred())
	AddReportEntry("control plane up", time.Since(start).Round(time.Millisecond).String())
	return []byte(plane.Kubeconfig)
}, func(data []byte) {
	if s, ok := bytes.CutPrefix(data, []byte("SKIP ")); ok {
		skipWhy = string(s)
		return
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", string(data))
	Expect(err).NotTo(HaveOccurred())
	deployer, err = kube.NewDeployer(cfg, slog.New(slog.NewTextHandler(GinkgoWriter, nil)))
	Expect(err).NotTo(HaveOccurred())
	cs = deployer.Clientset()
}, NodeTimeout(2*time.Minute))

var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	if plane != nil {
		Expect(plane.Down(ctx)).To(Succeed())
		_ = os.RemoveAll(plane.StateDir)
	}
}, NodeTimeout(time.Minute))

var _ = BeforeEach(func() {
	if skipWhy != "" {
		Skip("control plane not available: " + skipWhy)
	}
})

// render renders an overlay of the committed kustomize tree.
func render(ctx context.Context, env string) []byte {
	dir, err := deploy.OverlayDir(kustomizeRoot, env)
	Expect(err).NotTo(HaveOccurred())
	out, err := deploy.Render(ctx, dir)
	Expect(err).NotTo(HaveOccurred())
	return out
}

// patchDeployment returns manifests with f applied to the Deployment.
func patchDeployment(manifests []byte, f func(u *unstructured.Unstructured)) []byte {
	objs, err := kube.Objects(manifests, "", nil)
	Expect(err).NotTo(HaveOccurred())
	var out bytes.Buffer
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			f(u)
		}
		b, err := yaml.Marshal(u.Object)
		Expect(err).NotTo(HaveOccurred())
		out.WriteString("---\n")
		out.Write(b)
	}
	return out.Bytes()
}

func artifactsDir(name string) string {
	base := os.Getenv("ARTIFACTS")
	if base == "" {
		return filepath.Join(GinkgoT().TempDir(), name)
	}
	return filepath.Join(base, "e2e", name)
}
