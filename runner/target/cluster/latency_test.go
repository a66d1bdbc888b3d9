package cluster

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/kube"
)

// TestRouteLatencyOnHostNode measures what the pod-IP route saves per
// request: on a host node (root; hack/hostnode.sh prepare), the executor pod
// is asked the same requests by its pod IP and through a port-forward,
// interleaved in blocks, and the medians are logged. It asserts only that
// the run took the pod IP and that both routes answer. Opt in with
// REGEN_ROUTE_LATENCY=1 (it changes the machine, under testutil.LockMachine):
//
//	REGEN_ROUTE_LATENCY=1 go test ./runner/target/cluster -run TestRouteLatencyOnHostNode -v
func TestRouteLatencyOnHostNode(t *testing.T) {
	if os.Getenv("REGEN_ROUTE_LATENCY") != "1" {
		t.Skip("skip: set REGEN_ROUTE_LATENCY=1 to bring up a host node and measure (root)")
	}
	bin := kube.DefaultBinDir()
	if err := kube.CheckBinaries(bin); err != nil {
		t.Skipf("skip: %v", err)
	}
	if err := kube.CheckHost(bin, kube.HostOptions{}); err != nil {
		t.Skipf("skip: %v", err)
	}
	release, err := testutil.LockMachine()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	exeDir := t.TempDir()
	for _, c := range []string{"regen-executor", "regen-pause"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(exeDir, c), "./cmd/"+c)
		cmd.Dir = testutil.RepoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", c, err, out)
		}
	}
	ctx := context.Background()
	tg := New(Options{
		Env: "dev", Mode: ModeHost, KubeBin: bin, RunID: "route-latency",
		ExecutorBinary: filepath.Join(exeDir, "regen-executor"), Models: testutil.Path(t, "fixtures/models"),
		KustomizeDir: testutil.Path(t, "kustomize"), Timeouts: kube.Timeouts{Rollout: 2 * time.Minute},
		DiagnosticsDir: t.TempDir(), Notify: func(s string) { t.Log(s) },
	})
	if _, err := tg.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	defer func() {
		if err := tg.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	rs := tg.Routes()
	if len(rs) != 1 || !rs[0].Direct {
		t.Fatalf("routes = %+v; want one pod, by pod IP", rs)
	}
	port, err := tg.forward(tg.cfg, rs[0].Pod)
	if err != nil {
		t.Fatalf("port-forward: %v", err)
	}
	fwd := "http://127.0.0.1:" + strconv.Itoa(port)
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(url string) time.Duration {
		start := time.Now()
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n == 0 {
			t.Fatalf("GET %s: %s, %d bytes", url, resp.Status, n)
		}
		return time.Since(start)
	}
	for _, path := range []string{"/system_stats", "/object_info"} {
		var direct, forwarded []time.Duration
		for block := 0; block < 10; block++ {
			for i := 0; i < 10; i++ {
				direct = append(direct, get(rs[0].URL+path))
			}
			for i := 0; i < 10; i++ {
				forwarded = append(forwarded, get(fwd+path))
			}
		}
		d, f := median(direct), median(forwarded)
		t.Logf("GET %-13s median of %d: pod IP %v, port-forward %v (%.1fx, +%v a request)", path, len(direct), d, f, float64(f)/float64(d), f-d)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
