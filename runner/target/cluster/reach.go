package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// PortForwardEnv, set to 1 (or true), makes every cluster run reach its
// pods by port-forward, as --port-forward does.
const PortForwardEnv = "REGEN_PORT_FORWARD"

// ExecutorPort is the executor container's port when its spec names none
// called "http".
const ExecutorPort = 8188

// Route is how the runner reaches one executor pod.
type Route struct {
	Pod string
	// URL is the executor's base URL: http://<pod IP>:<port> when Direct,
	// else the loopback end of a port-forward.
	URL string
	// Direct: the pod IP answered from where regen runs.
	Direct bool
	// Addr is the pod's IP:port ("" when the pod has no IP yet).
	Addr string
	// Why says why this route was taken: the pod IP reachable, or what
	// made the run fall back to port-forward.
	Why string
}

// router chooses each pod's route: the pod IP when it answers /system_stats
// as the executor from this host, else a port-forward. Its seams (dial,
// get, forward) are fields so that tests choose what the network does.
type router struct {
	// forced, when not empty, says why the pod IP is never tried
	// (--port-forward, $REGEN_PORT_FORWARD).
	forced string
	// dialTimeout bounds the TCP connect to the pod IP; probeTimeout the
	// GET /system_stats that follows.
	dialTimeout, probeTimeout time.Duration
	dial                      func(ctx context.Context, network, addr string) (net.Conn, error)
	// routed says whether this host has a route of its own to a pod IP
	// (not only the default route); the probe is sent only then.
	routed func(net.IP) (bool, string)
	hc     *http.Client
	// forward starts a port-forward to pod and returns its loopback port.
	forward func(pod string) (int, error)
}

func newRouter(forced string, forward func(string) (int, error)) *router {
	d := &net.Dialer{}
	return &router{
		forced: forced, dialTimeout: time.Second, probeTimeout: 3 * time.Second,
		dial: d.DialContext, routed: specificRoute, hc: &http.Client{Timeout: 10 * time.Second}, forward: forward,
	}
}

// route reaches pod p. Only a failed port-forward is an error: a pod IP
// that does not answer, or answers as something else, is a fallback.
func (r *router) route(ctx context.Context, p corev1.Pod) (Route, error) {
	rt := Route{Pod: p.Name}
	if p.Status.PodIP != "" {
		rt.Addr = net.JoinHostPort(p.Status.PodIP, strconv.Itoa(podPort(p)))
	}
	switch {
	case r.forced != "":
		rt.Why = "forced by " + r.forced
	case rt.Addr == "":
		rt.Why = "the pod has no IP"
	default:
		if ok, why := r.routed(net.ParseIP(p.Status.PodIP)); !ok {
			rt.Why = fmt.Sprintf("pod IP %s not reachable from this host: %s", rt.Addr, why)
		} else if err := r.direct(ctx, rt.Addr); err != nil {
			rt.Why = err.Error()
		} else {
			rt.Direct, rt.URL, rt.Why = true, "http://"+rt.Addr, "reachable from this host"
			return rt, nil
		}
	}
	port, err := r.forward(p.Name)
	if err != nil { // neither route: say why the pod IP was not taken either
		return rt, fmt.Errorf("%w (and not by pod IP: %s)", err, rt.Why)
	}
	rt.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	return rt, nil
}

// errNotExecutor: the pod IP answered, but not as a ComfyUI-compatible
// executor (another server on a routable address of the same number).
var errNotExecutor = errors.New("not the executor")

// direct says whether addr is the executor, reachable from here: a TCP
// connect within dialTimeout, then GET /system_stats answering 200 with
// ComfyUI's shape (a "system" object and a "devices" array).
func (r *router) direct(ctx context.Context, addr string) error {
	dctx, cancel := context.WithTimeout(ctx, r.dialTimeout)
	conn, err := r.dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return fmt.Errorf("pod IP %s not reachable from this host: %w", addr, err)
	}
	_ = conn.Close()
	pctx, cancel := context.WithTimeout(ctx, r.probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, "http://"+addr+"/system_stats", nil)
	if err != nil {
		return fmt.Errorf("build system_stats request: %w", err)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("pod IP %s accepts connections but GET /system_stats failed: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("pod IP %s: read /system_stats: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pod IP %s answers, but %w: GET /system_stats: %s", addr, errNotExecutor, resp.Status)
	}
	var v struct {
		System  map[string]any `json:"system"`
		Devices []any          `json:"devices"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.System == nil || v.Devices == nil {
		return fmt.Errorf("pod IP %s answers, but %w: /system_stats is not ComfyUI's (%s)", addr, errNotExecutor, snippet(body))
	}
	return nil
}

// podPort is the executor container's port named http (else ExecutorPort).
func podPort(p corev1.Pod) int {
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == "http" && cp.ContainerPort > 0 {
				return int(cp.ContainerPort)
			}
		}
	}
	return ExecutorPort
}

// snippet is the start of a body, on one line, for an error.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	if s == "" {
		s = "empty"
	}
	return s
}

// routesNotice is the one line a run prints about how it reaches its pods.
func routesNotice(rs []Route) string {
	var direct, fwd []Route
	for _, r := range rs {
		if r.Direct {
			direct = append(direct, r)
		} else {
			fwd = append(fwd, r)
		}
	}
	var parts []string
	if len(direct) > 0 {
		addrs := make([]string, len(direct))
		for i, r := range direct {
			addrs[i] = r.Addr
		}
		parts = append(parts, "replaying via pod IP "+strings.Join(addrs, ", ")+" (reachable from this host)")
	}
	if len(fwd) > 0 {
		whys := make([]string, len(fwd))
		for i, r := range fwd {
			whys[i] = r.Why
			if len(fwd) > 1 || len(direct) > 0 {
				whys[i] = r.Pod + ": " + r.Why
			}
		}
		lead := "replaying via port-forward"
		if len(direct) > 0 {
			lead = "via port-forward"
		}
		parts = append(parts, lead+": "+strings.Join(whys, "; "))
	}
	return strings.Join(parts, "; ")
}

// forcedBy says what forces port-forward ("" when nothing does): the
// option (--port-forward), else PortForwardEnv set to 1, true or yes.
func forcedBy(opt bool, getenv func(string) string) string {
	if opt {
		return "--port-forward"
	}
	v := strings.TrimSpace(getenv(PortForwardEnv))
	switch strings.ToLower(v) {
	case "1", "true", "yes":
		return PortForwardEnv + "=" + v
	}
	return ""
}
