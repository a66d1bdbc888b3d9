package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// serviceIP is the first address of the service range: kubernetes.default.
const (
	serviceCIDR = "10.96.0.0/24"
	serviceIP   = "10.96.0.1"
)

// Binaries are the executables Up starts, looked up in Options.BinDir.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// ErrNoBinaries is returned (wrapped) when BinDir lacks a control-plane binary.
var ErrNoBinaries = errors.New("control-plane binaries not built (run hack/controlplane.sh build and export REGEN_KUBE_BIN=$(hack/controlplane.sh bindir))")

// Options configure Up.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kwok and stages/{node,pod}-fast.yaml.
	BinDir string
	// StateDir receives certificates, kubeconfig, etcd data and logs. It is
	// created if missing; Down leaves it for inspection.
	StateDir string
	// Nodes are created as kwok-managed fake nodes once the API server is up.
	Nodes []Node
	// Host, when set, adds a real node: a kubelet on this machine's
	// containerd and runc (see HostOptions; needs root). Down tears it down
	// and restores the host.
	Host *HostOptions
	// StartTimeout bounds the whole bring-up (default 60 s; 3 minutes with
	// a host node, which imports images and starts containers).
	StartTimeout time.Duration
	Log          *slog.Logger
	// Cmder runs every program (default ExecCmder); tests pass a fake.
	Cmder Cmder
}

// Cluster is a running local control plane.
type Cluster struct {
	// Kubeconfig is the path of an admin kubeconfig for the cluster.
	Kubeconfig string
	// Config is the admin rest.Config (client certificate in system:masters).
	Config *rest.Config
	// Server is the API server's URL (https://127.0.0.1:PORT).
	Server string
	// StateDir is where logs and data are.
	StateDir string

	log   *slog.Logger
	cmder Cmder
	procs []*process // in start order; Down stops them in reverse
	host  *hostNode  // the real node, if any
	// sys is where the host node's machine-wide files are (tests move them).
	sys hostSys
}

// CheckBinaries reports ErrNoBinaries (wrapped, naming what is missing) unless
// every binary and stage file is in dir.
func CheckBinaries(dir string) error {
	if dir == "" {
		return fmt.Errorf("no bin dir: %w", ErrNoBinaries)
	}
	var missing []string
	for _, b := range Binaries {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	for _, s := range []string{"node-fast.yaml", "pod-fast.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, "stages", s)); err != nil {
			missing = append(missing, "stages/"+s)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s lacks %v: %w", dir, missing, ErrNoBinaries)
	}
	return nil
}

// Up starts the control plane and the fake nodes and returns once the API
// server is ready, the controllers and scheduler are running and every node
// is Ready. On error everything it started is stopped.
func Up(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if err := CheckBinaries(opts.BinDir); err != nil {
		return nil, err
	}
	if opts.StateDir == "" {
		return nil, errors.New("cluster up: StateDir is required")
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
		if opts.Host != nil {
			opts.StartTimeout = 3 * time.Minute
		}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, opts.StartTimeout, &TimeoutError{Phase: "control plane start", After: opts.StartTimeout})
	defer cancel()
	state, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("resolve state dir: %w", err)
	}
	for _, d := range []string{"logs", "etcd", "pki", "apiserver"} {
		if err := os.MkdirAll(filepath.Join(state, d), 0o700); err != nil {
			return nil, fmt.Errorf("create state dir: %w", err)
		}
	}
	start := time.Now()
	cmder := opts.Cmder
	if cmder == nil {
		cmder = ExecCmder{}
	}
	c := &Cluster{StateDir: state, log: log, cmder: cmder, sys: defaultHostSys()}
	defer func() {
		if err != nil {
			_ = c.Down(context.WithoutCancel(ctx))
		}
	}()

	p, err := makePKI(filepath.Join(state, "pki"))
	if err != nil {
		return nil, fmt.Errorf("cluster up: %w", err)
	}
	ports, err := freePorts(7)
	if err != nil {
		return nil, fmt.Errorf("cluster up: %w", err)
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort, etcdMetrics := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]
	bin := func(name string) string { return filepath.Join(opts.BinDir, name) }
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)

	if err := c.start(ctx, "etcd", bin("etcd"),
		"--name=regen", "--data-dir="+filepath.Join(state, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster=regen=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--listen-metrics-urls=http://127.0.0.1:"+strconv.Itoa(etcdMetrics),
		"--unsafe-no-fsync", "--quota-backend-bytes=2147483648", "--log-level=warn",
	); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, etcdURL+"/health"); err != nil {
		return nil, c.startError("etcd", err)
	}

	c.Server = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	if err := c.start(ctx, "kube-apiserver", bin("kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		// Loopback is refused by the endpoint reconciler: without this the server exits.
		"--endpoint-reconciler-type=none",
		"--cert-dir="+filepath.Join(state, "apiserver"),
		"--tls-cert-file="+p.ServingCert, "--tls-private-key-file="+p.ServingKey,
		"--client-ca-file="+p.CACert,
		"--service-account-key-file="+p.SAPub, "--service-account-signing-key-file="+p.SAKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range="+serviceCIDR,
		// Node: the host node's kubelet (system:node:…) may read what its
		// pods need and nothing else; the apiserver's own kubelet client
		// cert serves logs and port-forward.
		"--authorization-mode=Node,RBAC", "--allow-privileged=true",
		"--kubelet-client-certificate="+p.KubeletClientCert, "--kubelet-client-key="+p.KubeletClientKey,
		"--enable-priority-and-fairness=false",
		// Reach kubelets by their InternalIP, never by resolving the node's
		// hostname: the default order asks DNS first, which on a sandboxed
		// machine means a query to a resolver off this host.
		"--kubelet-preferred-address-types=InternalIP",
	); err != nil {
		return nil, err
	}
	c.Config = &rest.Config{
		Host:            c.Server,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.CAPEM, CertData: p.AdminCertPEM, KeyData: p.AdminKeyPEM},
		QPS:             100, Burst: 200,
	}
	c.Kubeconfig = filepath.Join(state, "kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, c.Server, p, "regen-admin", &clientcmdapi.AuthInfo{ClientCertificateData: p.AdminCertPEM, ClientKeyData: p.AdminKeyPEM}); err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("cluster up: client: %w", err)
	}
	if err := waitReady(ctx, cs); err != nil {
		return nil, c.startError("kube-apiserver", err)
	}
	log.Info("kube-apiserver ready", "server", c.Server, "after", time.Since(start).Round(time.Millisecond))

	if err := c.start(ctx, "kube-controller-manager", bin("kube-controller-manager"),
		"--kubeconfig="+c.Kubeconfig, "--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kcmPort),
		"--service-account-private-key-file="+p.SAKey, "--root-ca-file="+p.CACert,
		"--cluster-signing-cert-file="+p.CACert, "--cluster-signing-key-file="+p.CAKey,
		"--service-cluster-ip-range="+serviceCIDR,
	); err != nil {
		return nil, err
	}
	if err := c.start(ctx, "kube-scheduler", bin("kube-scheduler"),
		"--kubeconfig="+c.Kubeconfig, "--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(schedPort),
	); err != nil {
		return nil, err
	}
	// kwok only simulates the fake nodes; a cluster with none (a host node's)
	// does not need it.
	if len(opts.Nodes) > 0 {
		if err := c.start(ctx, "kwok", bin("kwok"),
			"--kubeconfig="+c.Kubeconfig,
			"--config="+filepath.Join(opts.BinDir, "stages", "node-fast.yaml"),
			"--config="+filepath.Join(opts.BinDir, "stages", "pod-fast.yaml"),
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector="+kwokAnnotation+"=fake",
			"--server-address=127.0.0.1:"+strconv.Itoa(kwokPort),
			"--node-lease-duration-seconds=40",
			"--cidr=10.244.0.0/16", "--node-ip=127.0.0.1",
		); err != nil {
			return nil, err
		}
		if err := CreateNodes(ctx, cs, opts.Nodes); err != nil {
			return nil, c.startError("kwok", err)
		}
		if err := waitNodesReady(ctx, cs, opts.Nodes); err != nil {
			return nil, c.startError("kwok", err)
		}
	}
	if err := waitDefaultServiceAccount(ctx, cs); err != nil {
		return nil, c.startError("kube-controller-manager", err)
	}
	if opts.Host != nil {
		if err := c.startHost(ctx, *opts.Host, opts.BinDir, c.Server, p, cs); err != nil {
			return nil, err
		}
	}
	log.Info("control plane up", "server", c.Server, "nodes", len(opts.Nodes), "after", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// startError names the component whose wait failed and its log file, and
// every component that has already exited, with the last lines of its log.
func (c *Cluster) startError(name string, err error) error {
	msg := ""
	for _, p := range c.procs {
		if done, werr := p.exited(); done {
			msg += fmt.Sprintf("; %s exited (%v): %s", p.name, werr, logTail(filepath.Join(c.StateDir, "logs", p.name+".log"), 3))
		}
	}
	return fmt.Errorf("cluster up: %s: %w (log: %s)%s", name, err, filepath.Join(c.StateDir, "logs", name+".log"), msg)
}

// logTail returns the last n lines of a log file, joined with " | ".
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Down stops every process in reverse start order (SIGTERM, then SIGKILL
// after a grace period). The state directory is left for inspection.
func (c *Cluster) Down(ctx context.Context) error {
	var errs []error
	if c.host != nil {
		if err := c.host.stop(ctx, c.log); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		if err := c.procs[i].stop(ctx, 10*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	c.procs = nil
	if c.host != nil {
		if err := c.host.finish(ctx, c.log); err != nil {
			errs = append(errs, err)
		}
		c.host = nil
	}
	return errors.Join(errs...)
}

// PIDs returns the running processes by name, in start order.
func (c *Cluster) PIDs() map[string]int {
	m := make(map[string]int, len(c.procs))
	for _, p := range c.procs {
		m[p.name] = p.cmd.Pid()
	}
	return m
}

// writeKubeconfig writes a kubeconfig for server (trusting the cluster CA)
// whose one user authenticates as auth.
func writeKubeconfig(path, server string, p *pki, user string, auth *clientcmdapi.AuthInfo) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["regen-local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.CAPEM}
	cfg.AuthInfos[user] = auth
	cfg.Contexts["regen-local"] = &clientcmdapi.Context{Cluster: "regen-local", AuthInfo: user}
	cfg.CurrentContext = "regen-local"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// freePorts reserves n distinct free loopback ports by listening on port 0
// (all at once, so they differ) and releasing them.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
