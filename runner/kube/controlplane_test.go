package kube

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/regen-dev/regen/internal/testutil"
)

// fakeBinDir makes a bin dir that passes CheckBinaries (the fake runs none).
func fakeBinDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range append(slices.Clone(Binaries), "stages/node-fast.yaml", "stages/pod-fast.yaml") {
		p := filepath.Join(dir, b)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/false\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakePlane plays etcd and kube-apiserver on the ports Up gives them: etcd
// answers /health, the API server serves /readyz, the default service
// account, and keeps the nodes created through it (Ready at once, as kwok
// would make them).
type fakePlane struct {
	mu    sync.Mutex
	nodes map[string]*corev1.Node
}

func (p *fakePlane) start(c *fakeCmd) error {
	switch c.name {
	case "etcd":
		addr := strings.TrimPrefix(c.Arg("listen-client-urls"), "http://")
		return serve(c, addr, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/health" {
				_, _ = io.WriteString(w, `{"health":"true"}`)
				return
			}
			http.NotFound(w, r)
		}))
	case "kube-apiserver":
		pair, err := tls.LoadX509KeyPair(c.Arg("tls-cert-file"), c.Arg("tls-private-key-file"))
		if err != nil {
			return err
		}
		return serve(c, "127.0.0.1:"+c.Arg("secure-port"), &tls.Config{Certificates: []tls.Certificate{pair}}, http.HandlerFunc(p.api))
	}
	return nil
}

func (p *fakePlane) api(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.URL.Path == "/readyz":
		_, _ = io.WriteString(w, "ok")
	case r.URL.Path == "/api/v1/namespaces/default/serviceaccounts/default":
		_ = json.NewEncoder(w).Encode(corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{Kind: "ServiceAccount", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "default"}})
	case r.URL.Path == "/api/v1/nodes" && r.Method == http.MethodPost:
		// client-go sends built-in types as protobuf.
		var n corev1.Node
		body, err := io.ReadAll(r.Body)
		if err == nil {
			_, _, err = scheme.Codecs.UniversalDeserializer().Decode(body, nil, &n)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n.TypeMeta = metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		p.nodes[n.Name] = &n
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(n)
	case strings.HasPrefix(r.URL.Path, "/api/v1/nodes/"):
		n, ok := p.nodes[strings.TrimPrefix(r.URL.Path, "/api/v1/nodes/")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
			return
		}
		_ = json.NewEncoder(w).Encode(n)
	default:
		http.NotFound(w, r)
	}
}

// serve listens on addr for the fake component until it exits.
func serve(c *fakeCmd, addr string, tc *tls.Config, h http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if tc != nil {
		l = tls.NewListener(l, tc)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	c.OnExit = func() { _ = srv.Close() }
	return nil
}

// TestUpStartsInOrderDownStopsInReverse brings the control plane up on the
// fake: each component starts once its predecessor answers, with the
// arguments that make it work on loopback, and Down stops them in reverse.
func TestUpStartsInOrderDownStopsInReverse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		nodes     []Node
		wantStart []string
	}{
		{name: "with fake nodes", nodes: DefaultNodes(), wantStart: []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}},
		{name: "without nodes kwok is not started", wantStart: []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plane := &fakePlane{nodes: map[string]*corev1.Node{}}
			fc := &fakeCmder{start: plane.start}
			bin, state := fakeBinDir(t), t.TempDir()
			c, err := Up(context.Background(), Options{BinDir: bin, StateDir: state, Nodes: tt.nodes, Cmder: fc, StartTimeout: 20 * time.Second})
			if err != nil {
				t.Fatalf("Up: %v", err)
			}
			if got := fc.Filter("start "); !slices.Equal(got, tt.wantStart) {
				t.Fatalf("start order = %v, want %v", got, tt.wantStart)
			}
			for _, name := range tt.wantStart {
				cmd := fc.Started(name)
				if cmd.path != filepath.Join(bin, name) || cmd.dir != state || cmd.stdout == nil {
					t.Errorf("%s: path %s dir %s stdout %v; want the bin dir's binary, run in the state dir, logging to a file", name, cmd.path, cmd.dir, cmd.stdout)
				}
				b, err := os.ReadFile(filepath.Join(state, name+".pid"))
				if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(cmd.pid) {
					t.Errorf("%s.pid = %q, %v; want %d", name, b, err, cmd.pid)
				}
				if _, err := os.Stat(filepath.Join(state, "logs", name+".log")); err != nil {
					t.Errorf("no log for %s: %v", name, err)
				}
			}
			etcd, api := fc.Started("etcd"), fc.Started("kube-apiserver")
			checkArgs(t, etcd, "--data-dir="+filepath.Join(state, "etcd"), "--unsafe-no-fsync", "--name=regen")
			checkArgs(t, api, "--etcd-servers="+etcd.Arg("listen-client-urls"), "--bind-address=127.0.0.1",
				"--endpoint-reconciler-type=none", "--authorization-mode=Node,RBAC", "--kubelet-preferred-address-types=InternalIP",
				"--service-cluster-ip-range="+serviceCIDR, "--client-ca-file="+filepath.Join(state, "pki", "ca.crt"))
			for _, n := range []string{"kube-controller-manager", "kube-scheduler"} {
				checkArgs(t, fc.Started(n), "--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1")
			}
			checkArgs(t, fc.Started("kube-controller-manager"), "--root-ca-file="+filepath.Join(state, "pki", "ca.crt"),
				"--cluster-signing-cert-file="+filepath.Join(state, "pki", "ca.crt"), "--service-cluster-ip-range="+serviceCIDR)
			if kwok := fc.Started("kwok"); kwok != nil {
				checkArgs(t, kwok, "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector="+kwokAnnotation+"=fake",
					"--config="+filepath.Join(bin, "stages", "node-fast.yaml"), "--config="+filepath.Join(bin, "stages", "pod-fast.yaml"))
				if len(plane.nodes) != len(tt.nodes) {
					t.Errorf("nodes created = %d, want %d", len(plane.nodes), len(tt.nodes))
				}
			}
			// Every port is loopback and no two components share one.
			ports := map[string]string{}
			for _, cmd := range fc.cmds {
				for _, a := range cmd.args {
					for _, key := range []string{"--secure-port=", "--listen-client-urls=", "--listen-peer-urls=", "--listen-metrics-urls=", "--server-address="} {
						if v, ok := strings.CutPrefix(a, key); ok {
							port := v[strings.LastIndex(v, ":")+1:]
							if prev, dup := ports[port]; dup {
								t.Errorf("port %s used by %s and %s %s", port, prev, cmd.name, key)
							}
							ports[port] = cmd.name + " " + key
							if strings.Contains(v, ":") && !strings.Contains(v, "127.0.0.1:") {
								t.Errorf("%s %s%s is not on loopback", cmd.name, key, v)
							}
						}
					}
				}
			}
			if pids := c.PIDs(); len(pids) != len(tt.wantStart) || pids["etcd"] != etcd.pid {
				t.Errorf("PIDs = %v", pids)
			}
			if err := c.Down(context.Background()); err != nil {
				t.Fatalf("Down: %v", err)
			}
			want := slices.Clone(tt.wantStart)
			slices.Reverse(want)
			for i := range want {
				want[i] += " terminated"
			}
			if got := fc.Filter("signal "); !slices.Equal(got, want) {
				t.Errorf("Down signalled %v, want %v", got, want)
			}
		})
	}
}

func checkArgs(t *testing.T, c *fakeCmd, want ...string) {
	t.Helper()
	if c == nil {
		t.Fatal("component not started")
	}
	for _, w := range want {
		if !c.Has(w) {
			t.Errorf("%s lacks %s in %v", c.name, w, c.args)
		}
	}
}

// TestUpFailures: whatever fails during the bring-up, Up names the
// component and stops everything it had started.
func TestUpFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		timeout    time.Duration
		start      func(p *fakePlane, c *fakeCmd) error
		wantErr    []string
		wantStart  []string
		wantSignal []string
	}{
		{
			name:    "a binary that does not start",
			timeout: 4 * time.Second,
			start: func(p *fakePlane, c *fakeCmd) error {
				if c.name == "kube-apiserver" {
					return errors.New("exec format error")
				}
				return p.start(c)
			},
			wantErr:    []string{"start kube-apiserver: exec format error"},
			wantStart:  []string{"etcd"},
			wantSignal: []string{"etcd terminated"},
		},
		{
			name:    "etcd exits at once",
			timeout: 4 * time.Second,
			start: func(p *fakePlane, c *fakeCmd) error {
				if c.name == "etcd" {
					fmt.Fprintln(c.stdout, "etcdmain: listen tcp: address already in use")
					go c.Exit(errors.New("exit status 1"))
					return nil
				}
				return p.start(c)
			},
			wantErr:   []string{"cluster up: etcd:", "timed out", "etcd exited (exit status 1): etcdmain: listen tcp: address already in use", filepath.Join("logs", "etcd.log")},
			wantStart: []string{"etcd"},
		},
		{
			name:    "the controller manager never makes the default service account",
			timeout: 4 * time.Second,
			start: func(p *fakePlane, c *fakeCmd) error {
				if c.name == "kube-apiserver" {
					pair, err := tls.LoadX509KeyPair(c.Arg("tls-cert-file"), c.Arg("tls-private-key-file"))
					if err != nil {
						return err
					}
					return serve(c, "127.0.0.1:"+c.Arg("secure-port"), &tls.Config{Certificates: []tls.Certificate{pair}}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.URL.Path == "/readyz" {
							_, _ = io.WriteString(w, "ok")
							return
						}
						w.WriteHeader(http.StatusNotFound)
						_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
					}))
				}
				return p.start(c)
			},
			wantErr:    []string{"cluster up: kube-controller-manager:", "control plane start timed out"},
			wantStart:  []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"},
			wantSignal: []string{"kube-scheduler terminated", "kube-controller-manager terminated", "kube-apiserver terminated", "etcd terminated"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plane := &fakePlane{nodes: map[string]*corev1.Node{}}
			fc := &fakeCmder{}
			fc.start = func(c *fakeCmd) error { return tt.start(plane, c) }
			_, err := Up(context.Background(), Options{BinDir: fakeBinDir(t), StateDir: t.TempDir(), Cmder: fc, StartTimeout: tt.timeout})
			if err == nil {
				t.Fatal("Up succeeded")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if got := fc.Filter("start "); !slices.Equal(got, tt.wantStart) {
				t.Errorf("started %v, want %v", got, tt.wantStart)
			}
			if got := fc.Filter("signal "); !slices.Equal(got, tt.wantSignal) {
				t.Errorf("stopped %v, want %v", got, tt.wantSignal)
			}
		})
	}
}

func TestUpRefusesBeforeStartingAnything(t *testing.T) {
	t.Parallel()
	fc := &fakeCmder{}
	if _, err := Up(context.Background(), Options{BinDir: t.TempDir(), StateDir: t.TempDir(), Cmder: fc}); !errors.Is(err, ErrNoBinaries) {
		t.Errorf("Up without binaries = %v, want ErrNoBinaries", err)
	}
	if _, err := Up(context.Background(), Options{BinDir: fakeBinDir(t), Cmder: fc}); err == nil || !strings.Contains(err.Error(), "StateDir") {
		t.Errorf("Up without a state dir = %v", err)
	}
	if ev := fc.Events(); len(ev) > 0 {
		t.Errorf("ran %v before refusing", ev)
	}
}

// TestStopEscalates: a component gets SIGTERM, and SIGKILL only if it is
// still running after the grace period; one that has exited gets nothing.
func TestStopEscalates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		play   func(c *fakeCmd)
		signal []string
	}{
		{name: "stops on SIGTERM", play: func(*fakeCmd) {}, signal: []string{"x terminated"}},
		{name: "ignores SIGTERM", play: func(c *fakeCmd) { c.IgnoreTERM = true }, signal: []string{"x terminated", "x killed"}},
		{name: "already exited", play: func(c *fakeCmd) { c.Exit(errors.New("exit status 2")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc := &fakeCmder{}
			state := t.TempDir()
			if err := os.MkdirAll(filepath.Join(state, "logs"), 0o700); err != nil {
				t.Fatal(err)
			}
			c := &Cluster{StateDir: state, log: testutil.Logger(), cmder: fc}
			p, err := c.startEnv(context.Background(), "x", []string{"A=1"}, "/bin/x", "--flag")
			if err != nil {
				t.Fatal(err)
			}
			if cmd := fc.Started("x"); !slices.Equal(cmd.env, []string{"A=1"}) || !cmd.Has("--flag") {
				t.Errorf("started %+v", cmd)
			}
			tt.play(fc.Started("x"))
			<-time.After(10 * time.Millisecond) // let an exit be seen
			if err := p.stop(context.Background(), 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if got := fc.Filter("signal "); !slices.Equal(got, tt.signal) {
				t.Errorf("signals %v, want %v", got, tt.signal)
			}
			if done, _ := p.exited(); !done {
				t.Error("process not reaped after stop")
			}
		})
	}
}

func TestStartEnvRefusesADoneContext(t *testing.T) {
	t.Parallel()
	fc := &fakeCmder{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &Cluster{StateDir: t.TempDir(), log: testutil.Logger(), cmder: fc}
	if _, err := c.startEnv(ctx, "x", nil, "/bin/x"); !errors.Is(err, context.Canceled) {
		t.Errorf("startEnv = %v, want context.Canceled", err)
	}
	if len(fc.Events()) > 0 {
		t.Errorf("started %v", fc.Events())
	}
}
