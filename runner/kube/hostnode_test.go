package kube

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regen-dev/regen/internal/testutil"
)

// ctrAnswers answers the fake's ctr calls from a table keyed by the
// arguments after --address … --namespace k8s.io; other programs get "".
func ctrAnswers(answers map[string]string, fail map[string]bool) func(string, []string) ([]byte, error) {
	return func(name string, args []string) ([]byte, error) {
		if name != "ctr" || len(args) < 4 {
			return nil, nil
		}
		key := strings.Join(args[4:], " ")
		if fail[key] {
			return []byte("ctr: not found"), errors.New("exit status 1")
		}
		return []byte(answers[key]), nil
	}
}

func TestCtrTalksToTheNodesContainerd(t *testing.T) {
	t.Parallel()
	fc := &fakeCmder{run: ctrAnswers(map[string]string{"version": "  Version: 1.6.20\n"}, nil)}
	h := &hostNode{cmder: fc, sock: "/tmp/regen-host-x/host/containerd.sock", progs: hostPrograms{ctr: "/usr/bin/ctr"}}
	out, err := h.ctr(context.Background(), "version")
	if err != nil || out != "Version: 1.6.20" {
		t.Fatalf("ctr version = %q, %v", out, err)
	}
	if _, err := h.ctr(context.Background(), "images", "import", "/tmp/x/executor.oci.tar"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ctr --address /tmp/regen-host-x/host/containerd.sock --namespace k8s.io version",
		"ctr --address /tmp/regen-host-x/host/containerd.sock --namespace k8s.io images import /tmp/x/executor.oci.tar",
	}
	if got := fc.Filter("run "); !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
}

// TestRemoveContainers: every task is killed before any is deleted (so the
// shims exit on their own), then every container is deleted; a failure on
// one does not stop the others.
func TestRemoveContainers(t *testing.T) {
	t.Parallel()
	fc := &fakeCmder{run: ctrAnswers(
		map[string]string{"tasks ls -q": "t1\nt2\n", "containers ls -q": "c1\nc2\nc3\n"},
		map[string]bool{"containers delete c2": true},
	)}
	h := &hostNode{cmder: fc, sock: "/s", progs: hostPrograms{ctr: "ctr"}}
	h.removeContainers(context.Background(), testutil.Logger())
	var got []string
	for _, e := range fc.Filter("run ctr --address /s --namespace k8s.io ") {
		got = append(got, e)
	}
	want := []string{
		"tasks ls -q",
		"tasks kill --signal SIGKILL t1", "tasks kill --signal SIGKILL t2",
		"tasks delete --force t1", "tasks delete --force t2",
		"containers ls -q",
		"containers delete c1", "containers delete c2", "containers delete c3",
	}
	if !slices.Equal(got, want) {
		t.Errorf("removeContainers ran\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHostNodeStopOrder: the kubelet stops first (pods stay as they are),
// then the containers go through containerd, then containerd stops; a
// containerd that is already gone is not asked for its containers.
func TestHostNodeStopOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		ctrdExited   bool
		wantEvents   []string
		kubeletHangs bool
	}{
		{name: "both running", wantEvents: []string{
			"signal kubelet terminated",
			"run ctr --address /s --namespace k8s.io tasks ls -q",
			"run ctr --address /s --namespace k8s.io containers ls -q",
			"signal containerd terminated",
		}},
		{name: "containerd already gone", ctrdExited: true, wantEvents: []string{"signal kubelet terminated"}},
		{name: "a kubelet that ignores SIGTERM is killed first", kubeletHangs: true, wantEvents: []string{
			"signal kubelet terminated", "signal kubelet killed",
			"run ctr --address /s --namespace k8s.io tasks ls -q",
			"run ctr --address /s --namespace k8s.io containers ls -q",
			"signal containerd terminated",
		}},
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
			ctrd, err := c.startEnv(context.Background(), "containerd", nil, "/usr/bin/containerd")
			if err != nil {
				t.Fatal(err)
			}
			kubelet, err := c.startEnv(context.Background(), "kubelet", []string{"PATH=/usr/bin:/bin"}, "/bin/kubelet")
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctrdExited {
				fc.Started("containerd").Exit(errors.New("exit status 1"))
				<-time.After(10 * time.Millisecond)
			}
			fc.Started("kubelet").IgnoreTERM = tt.kubeletHangs
			h := &hostNode{cmder: fc, sock: "/s", progs: hostPrograms{ctr: "ctr"}, kubelet: kubelet, ctrd: ctrd}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The grace period is 10 s; a hanging kubelet is killed after it
			// unless ctx ends first, which a short context makes happen now.
			if tt.kubeletHangs {
				var short context.CancelFunc
				ctx, short = context.WithTimeout(ctx, 50*time.Millisecond)
				defer short()
			}
			if err := h.stop(ctx, testutil.Logger()); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range fc.Events() {
				if !strings.HasPrefix(e, "start ") {
					got = append(got, e)
				}
			}
			if !slices.Equal(got, tt.wantEvents) {
				t.Errorf("stop did\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.wantEvents, "\n"))
			}
		})
	}
}

func TestCheckHostNetwork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		link    string // present in the fake /sys/class/net
		route   string
		ipErr   bool
		wantErr string
	}{
		{name: "clean machine"},
		{name: "only a default route matches", route: "default via 10.0.0.1 dev eth0\n"},
		{name: "node link left over", link: "regen-node0", wantErr: "network link regen-node0 already exists"},
		{name: "pod bridge left over", link: "regen0", wantErr: "ip link del regen0"},
		{name: "pod subnet routed elsewhere", route: "10.213.0.0/16 dev docker9 proto kernel\n", wantErr: "pod subnet 10.213.0.0/24 is already routed on this machine (10.213.0.0/16 dev docker9"},
		{name: "ip fails", ipErr: true, wantErr: "host node: ip route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sys := hostSys{netDir: t.TempDir()}
			if tt.link != "" {
				if err := os.Mkdir(filepath.Join(sys.netDir, tt.link), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			fc := &fakeCmder{run: func(name string, args []string) ([]byte, error) {
				if tt.ipErr {
					return nil, errors.New("exit status 255")
				}
				return []byte(tt.route), nil
			}}
			err := checkHostNetwork(context.Background(), fc, sys, "/usr/sbin/ip")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("checkHostNetwork = %v, want %q", err, tt.wantErr)
			}
			ran := fc.Filter("run ")
			if tt.link != "" && len(ran) > 0 {
				t.Errorf("asked ip %v after finding a leftover link", ran)
			}
			if tt.link == "" && !slices.Equal(ran, []string{"ip -4 route show match " + podGateway}) {
				t.Errorf("ran %v", ran)
			}
		})
	}
}

// sweepFixture is a host as a host node left it: one tracked host path with
// an old entry and new ones (one of them a live socket of another program),
// the node's bulk under its host dir, a ledger, and links.
type sweepFixture struct {
	sys                  hostSys
	snap                 *hostSnapshot
	tracked, hostDir     string
	oldEntry, newEntries []string
	liveDir              string
}

func newSweepFixture(t *testing.T, links ...string) sweepFixture {
	t.Helper()
	root := t.TempDir()
	f := sweepFixture{
		sys:     hostSys{ledger: filepath.Join(root, "run", "regen-host-node.json"), lock: filepath.Join(root, "run", "lock"), netDir: filepath.Join(root, "net")},
		tracked: filepath.Join(root, "lib"),
		hostDir: filepath.Join(root, "state", "host"),
	}
	mk := func(p string) {
		t.Helper()
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk(filepath.Join(f.tracked, "old", "keep"))
	mk(filepath.Dir(f.sys.ledger))
	mk(f.sys.netDir)
	for _, l := range links {
		mk(filepath.Join(f.sys.netDir, l))
	}
	before, err := listTree(f.tracked, 2)
	if err != nil {
		t.Fatal(err)
	}
	f.snap = &hostSnapshot{StateDir: filepath.Join(root, "state"), HostDir: f.hostDir, Socket: filepath.Join(f.hostDir, "containerd.sock"),
		Paths: map[string]pathState{f.tracked: before}, NFTables: []string{"inet filter"}}
	if err := f.snap.writeLedger(f.sys.ledger); err != nil {
		t.Fatal(err)
	}
	// What the node made: new entries in the tracked path, its bulk, its logs.
	f.newEntries = []string{filepath.Join(f.tracked, "device-plugins"), filepath.Join(f.tracked, "old", "pods")}
	for _, p := range f.newEntries {
		mk(filepath.Join(p, "deeper"))
	}
	f.liveDir = filepath.Join(f.tracked, "s")
	mk(f.liveDir)
	l, err := net.Listen("unix", filepath.Join(f.liveDir, "shim.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	for _, d := range []string{"containerd/root", "kubelet/pods", "runc", "logs-stay"} {
		mk(filepath.Join(f.hostDir, d))
	}
	return f
}

// TestSweep checks the sweep's decisions: what is new goes, what was there
// stays, a socket another program still answers on stays, the links that
// exist are deleted, only the nftables tables that are new are deleted, the
// node's bulk goes and its logs stay, and the ledger goes only when
// everything went.
func TestSweep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		links      []string
		nftFails   bool
		wantRun    []string
		wantErr    string
		wantLedger bool
	}{
		{
			name:  "clean",
			links: []string{podBridge},
			wantRun: []string{
				"ip link del " + podBridge,
				"nft list tables",
				"nft delete table ip regen-test",
			},
		},
		{
			name:     "failing step keeps ledger",
			links:    []string{podBridge, hostNodeLink},
			nftFails: true,
			wantRun: []string{
				"ip link del " + podBridge, "ip link del " + hostNodeLink,
				"nft list tables",
				"nft delete table ip regen-test",
			},
			wantErr:    "nft delete table ip regen-test",
			wantLedger: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSweepFixture(t, tt.links...)
			fc := &fakeCmder{run: func(name string, args []string) ([]byte, error) {
				switch {
				case name == "nft" && args[0] == "list":
					return []byte("table inet filter\ntable ip regen-test\n"), nil
				case name == "nft" && tt.nftFails:
					return []byte("Error: Could not process rule"), errors.New("exit status 1")
				}
				return nil, nil
			}}
			err := f.snap.sweep(context.Background(), fc, f.sys, testutil.Logger())
			if got := fc.Filter("run "); !slices.Equal(got, tt.wantRun) {
				t.Errorf("sweep ran %q, want %q", got, tt.wantRun)
			}
			if tt.wantErr == "" && err != nil {
				t.Fatalf("sweep: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "ledger "+f.sys.ledger+" kept")) {
				t.Fatalf("sweep = %v, want %q and the ledger kept", err, tt.wantErr)
			}
			exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
			for _, p := range f.newEntries {
				if exists(p) {
					t.Errorf("new entry %s left behind", p)
				}
			}
			for _, p := range []string{filepath.Join(f.tracked, "old", "keep"), filepath.Join(f.liveDir, "shim.sock"), filepath.Join(f.hostDir, "logs-stay")} {
				if !exists(p) {
					t.Errorf("%s removed; it was there before or is in use", p)
				}
			}
			for _, d := range []string{"containerd", "kubelet", "runc"} {
				if exists(filepath.Join(f.hostDir, d)) {
					t.Errorf("node bulk %s left behind", d)
				}
			}
			if exists(f.sys.ledger) != tt.wantLedger {
				t.Errorf("ledger exists = %v, want %v", !tt.wantLedger, tt.wantLedger)
			}
		})
	}
}

func TestLedgerRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.json")
	if _, err := readLedger(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("readLedger of nothing = %v, want ErrNotExist (no earlier run)", err)
	}
	s := &hostSnapshot{StateDir: "/tmp/regen-host-1", HostDir: "/tmp/regen-host-1/host", Socket: "/tmp/regen-host-1/host/containerd.sock",
		Paths: map[string]pathState{"/var/lib/kubelet": {Existed: true, Entries: []string{"a"}}}, Sysctls: map[string]string{"net/ipv4/ip_forward": "0"}, PID: 42}
	if err := s.writeLedger(path); err != nil {
		t.Fatal(err)
	}
	got, err := readLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Errorf("round trip:\n%s\n%s", a, b)
	}
	for name, body := range map[string]string{"garbage": "{", "incomplete": `{"stateDir": "/tmp/x"}`} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readLedger(path); err == nil || errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s ledger: readLedger = %v, want an error naming it", name, err)
		}
	}
}

// TestLockHost: one host node per machine; a second waits, then times out
// naming the holder's pid; once released, the lock is free again.
func TestLockHost(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "regen-host-node.lock")
	first, err := lockHost(context.Background(), path, time.Second, testutil.Logger())
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockHost(context.Background(), path, 300*time.Millisecond, testutil.Logger())
	te, ok := errors.AsType[*TimeoutError](err)
	if !ok || !strings.Contains(te.Detail, "held by pid") {
		t.Fatalf("second lockHost = %v, want a TimeoutError naming the holder", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lockHost(ctx, path, time.Minute, testutil.Logger()); !errors.Is(err, context.Canceled) {
		t.Errorf("lockHost with a done context = %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := lockHost(context.Background(), path, time.Second, testutil.Logger())
	if err != nil {
		t.Fatalf("lockHost after release: %v", err)
	}
	_ = again.Close()
}
