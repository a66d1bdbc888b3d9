package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regen-dev/regen/executor"
)

// executorAddr serves a real regen-executor (built-in nodes, CPU, no
// models) on a loopback port for the test and returns its address.
func executorAddr(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	x, err := executor.New(executor.Options{Models: dir + "/models", Input: dir + "/in", Output: dir + "/out", Temp: dir + "/tmp", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("start executor: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = x.Close()
	})
	return ln.Addr().String()
}

// serverAddr serves h on a loopback port and returns its address.
func serverAddr(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

// closedAddr is a loopback address nothing listens on (connection refused).
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// silentAddr accepts connections and never answers a byte.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for { // the connections close when the listener does
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	return ln.Addr().String()
}

// podAt is an executor pod whose IP:port is addr ("" : no IP yet).
func podAt(t *testing.T, name, addr string) corev1.Pod {
	t.Helper()
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}
	port := ExecutorPort
	if addr != "" {
		host, ps, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		if port, err = strconv.Atoi(ps); err != nil {
			t.Fatal(err)
		}
		p.Status.PodIP = host
	}
	p.Spec.Containers = []corev1.Container{{Name: "executor", Ports: []corev1.ContainerPort{
		{Name: "metrics", ContainerPort: 9090}, {Name: "http", ContainerPort: int32(port)},
	}}}
	return p
}

// fakeForward records the pods it was asked for and answers port (or err).
type fakeForward struct {
	port  int
	err   error
	calls []string
}

func (f *fakeForward) forward(pod string) (int, error) {
	f.calls = append(f.calls, pod)
	return f.port, f.err
}

func TestRouteChoosesPodIPOrFallsBack(t *testing.T) {
	t.Parallel()
	// A dial that never connects: a pod IP routed nowhere (the packets
	// are dropped), as a kind pod's is from the host.
	blackhole := func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tests := []struct {
		name   string
		addr   func(t *testing.T) string
		forced string
		dial   func(ctx context.Context, network, addr string) (net.Conn, error)
		// unrouted: the host's table covers the pod IP by its default
		// route only.
		unrouted bool
		direct   bool
		why      string // in Route.Why
	}{
		{name: "executor answers on the pod IP", addr: executorAddr, direct: true, why: "reachable from this host"},
		{name: "forced port-forward never dials", addr: executorAddr, forced: "--port-forward", why: "forced by --port-forward",
			dial: func(context.Context, string, string) (net.Conn, error) {
				return nil, errors.New("dialled although forced")
			}},
		{name: "pod without an IP", addr: func(*testing.T) string { return "" }, why: "the pod has no IP"},
		{name: "only the default route covers the pod IP: never dialled", addr: executorAddr, unrouted: true,
			why: "not reachable from this host: only this host's default route covers it",
			dial: func(context.Context, string, string) (net.Conn, error) {
				return nil, errors.New("dialled a pod IP that only the default route covers")
			}},
		{name: "connection refused", addr: closedAddr, why: "not reachable from this host"},
		{name: "packets dropped: the dial times out", addr: closedAddr, dial: blackhole, why: "not reachable from this host"},
		{name: "accepts but never answers", addr: silentAddr, why: "accepts connections but GET /system_stats failed"},
		{name: "another server: 404", addr: func(t *testing.T) string {
			return serverAddr(t, func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) })
		}, why: "not the executor: GET /system_stats: 404"},
		{name: "another server: HTML", addr: func(t *testing.T) string {
			return serverAddr(t, func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "<html><body>welcome to nginx</body></html>")
			})
		}, why: "not the executor: /system_stats is not ComfyUI's (<html><body>welcome"},
		{name: "another server: JSON of another shape", addr: func(t *testing.T) string {
			return serverAddr(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) })
		}, why: "not the executor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tc.addr(t)
			fw := &fakeForward{port: 40123}
			r := newRouter(tc.forced, fw.forward)
			r.dialTimeout, r.probeTimeout = 200*time.Millisecond, 500*time.Millisecond
			if tc.dial != nil {
				r.dial = tc.dial
			}
			if tc.unrouted {
				r.routed = func(net.IP) (bool, string) {
					return routeCovers(strings.NewReader(defaultOnlyTable), net.IPv4(10, 244, 0, 4))
				}
			}
			start := time.Now()
			rt, err := r.route(context.Background(), podAt(t, "regen-executor-0", addr))
			if err != nil {
				t.Fatalf("route: %v", err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("route took %v; the probe's timeouts bound it", took)
			}
			if rt.Direct != tc.direct || !strings.Contains(rt.Why, tc.why) {
				t.Errorf("route = %+v; want direct %v, why containing %q", rt, tc.direct, tc.why)
			}
			if rt.Addr != addr {
				t.Errorf("Addr = %q; want %q (the pod IP and its http port)", rt.Addr, addr)
			}
			switch {
			case tc.direct && (rt.URL != "http://"+addr || len(fw.calls) != 0):
				t.Errorf("direct route: URL %q, port-forwards %v; want http://%s and none", rt.URL, fw.calls, addr)
			case !tc.direct && (rt.URL != "http://127.0.0.1:40123" || len(fw.calls) != 1 || fw.calls[0] != "regen-executor-0"):
				t.Errorf("fallback: URL %q, port-forwards %v; want the forward's loopback port, one forward to the pod", rt.URL, fw.calls)
			}
		})
	}
}

func TestRouteFailsWhenThePortForwardFails(t *testing.T) {
	t.Parallel()
	fw := &fakeForward{err: errors.New("port-forward regen-executor-0: upgrade refused")}
	r := newRouter("", fw.forward)
	_, err := r.route(context.Background(), podAt(t, "regen-executor-0", closedAddr(t)))
	if err == nil || !strings.Contains(err.Error(), "upgrade refused") || !strings.Contains(err.Error(), "not reachable from this host") {
		t.Fatalf("route = %v; want the port-forward's error and why the pod IP was not taken", err)
	}
}

func TestRoutesNotice(t *testing.T) {
	t.Parallel()
	direct := func(pod, addr string) Route {
		return Route{Pod: pod, Addr: addr, Direct: true, URL: "http://" + addr, Why: "reachable from this host"}
	}
	fwd := func(pod, why string) Route { return Route{Pod: pod, URL: "http://127.0.0.1:1", Why: why} }
	tests := []struct {
		name   string
		routes []Route
		want   string
	}{
		{"one pod by IP", []Route{direct("a", "10.88.0.5:8188")}, "replaying via pod IP 10.88.0.5:8188 (reachable from this host)"},
		{"replicas by IP", []Route{direct("a", "10.88.0.5:8188"), direct("b", "10.88.0.6:8188")}, "replaying via pod IP 10.88.0.5:8188, 10.88.0.6:8188 (reachable from this host)"},
		{"one pod forwarded", []Route{fwd("a", "pod IP 10.244.0.5:8188 not reachable from this host: i/o timeout")},
			"replaying via port-forward: pod IP 10.244.0.5:8188 not reachable from this host: i/o timeout"},
		{"forced", []Route{fwd("a", "forced by --port-forward"), fwd("b", "forced by --port-forward")},
			"replaying via port-forward: a: forced by --port-forward; b: forced by --port-forward"},
		{"mixed", []Route{direct("a", "10.88.0.5:8188"), fwd("b", "the pod has no IP")},
			"replaying via pod IP 10.88.0.5:8188 (reachable from this host); via port-forward: b: the pod has no IP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := routesNotice(tc.routes); got != tc.want {
				t.Errorf("routesNotice = %q\nwant             %q", got, tc.want)
			}
		})
	}
}

func TestForcedBy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opt  bool
		env  string
		want string
	}{
		{false, "", ""},
		{false, "0", ""},
		{false, "no", ""},
		{true, "", "--port-forward"},
		{true, "1", "--port-forward"},
		{false, "1", "REGEN_PORT_FORWARD=1"},
		{false, "true", "REGEN_PORT_FORWARD=true"},
	}
	for _, tc := range tests {
		t.Run(strconv.FormatBool(tc.opt)+"/"+tc.env, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				if k == PortForwardEnv {
					return tc.env
				}
				return ""
			}
			if got := forcedBy(tc.opt, getenv); got != tc.want {
				t.Errorf("forcedBy(%v, %q) = %q; want %q", tc.opt, tc.env, got, tc.want)
			}
		})
	}
}
