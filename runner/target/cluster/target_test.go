package cluster

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/kube"
)

func TestStartWithoutCluster(t *testing.T) {
	p := fakeProbe(nil, nil, nil)
	tg := New(Options{Env: "dev", Probe: &p, KustomizeDir: testutil.Path(t, "kustomize")})
	start := time.Now()
	_, err := tg.Start(context.Background())
	if !errors.Is(err, ErrNoCluster) || time.Since(start) > 2*time.Second {
		t.Fatalf("Start = %v after %v; want ErrNoCluster at once", err, time.Since(start))
	}
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStartOnKwok deploys dev on the local control plane: the rollout
// succeeds, the port-forward cannot (kwok nodes have no kubelet), and the
// target collects diagnostics and tears the namespace down.
func TestStartOnKwok(t *testing.T) {
	bin := kube.DefaultBinDir()
	if err := kube.CheckBinaries(bin); err != nil {
		t.Skipf("skip: %v", err)
	}
	if testing.Short() {
		t.Skip("skip: -short (starts a control plane)")
	}
	ctx := context.Background()
	c, err := kube.Up(ctx, kube.Options{BinDir: bin, StateDir: t.TempDir(), Nodes: kube.DefaultNodes()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Down(ctx) }()
	diag := t.TempDir()
	tg := New(Options{Env: "dev", Kubeconfig: c.Kubeconfig, RunID: "target-test", KustomizeDir: testutil.Path(t, "kustomize"), DiagnosticsDir: diag})
	_, err = tg.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "port-forward") && !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Start on kwok = %v; want a port-forward failure", err)
	}
	t.Logf("expected failure on kwok: %v", err)
	if _, serr := os.Stat(diag + "/status.txt"); serr != nil {
		t.Errorf("no diagnostics saved: %v", serr)
	}
	d, err := kube.NewDeployer(c.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	nss, err := d.Clientset().CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: kube.LabelRunID + "=target-test"})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if len(nss.Items) != 0 {
		t.Errorf("namespace left behind: %s", nss.Items[0].Name)
	}
}
