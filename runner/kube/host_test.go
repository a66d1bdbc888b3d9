package kube

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseMountInfo(t *testing.T) {
	in := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
35 22 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:9 - cgroup cgroup rw,memory
36 22 0:31 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw
90 22 0:50 / /tmp/regen\040host/kubelet/pods/x/volumes rw - tmpfs tmpfs rw
bad line
`
	got, err := parseMountInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mount{{"/", "ext4"}, {"/sys/fs/cgroup/memory", "cgroup"}, {"/sys/fs/cgroup/unified", "cgroup2"}, {"/tmp/regen host/kubelet/pods/x/volumes", "tmpfs"}}
	if !slices.Equal(got, want) {
		t.Fatalf("parseMountInfo = %v, want %v", got, want)
	}
	for in, want := range map[string]string{`a\040b`: "a b", `a\134b`: `a\b`, `tail\04`: `tail\04`, "plain": "plain"} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewEntries(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "run-containerd")
	mk := func(rel string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(p, rel), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	absent := filepath.Join(root, "absent")
	before, err := listTree(absent, 2)
	if err != nil || before.Existed {
		t.Fatalf("listTree(absent) = %+v, %v", before, err)
	}
	mk("s/old")
	mk("runc/default")
	snap, err := listTree(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"runc", "runc/default", "s", "s/old"}; !slices.Equal(snap.Entries, want) {
		t.Fatalf("entries = %v, want %v", snap.Entries, want)
	}
	mk("s/new1")
	mk("fifo/a/b/c")          // a new subtree is listed once, at its top
	mk("runc/default/deeper") // below depth 2: not tracked
	got, err := snap.newEntries(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(p, "fifo"), filepath.Join(p, "s/new1")}
	if !slices.Equal(got, want) {
		t.Fatalf("newEntries = %v, want %v", got, want)
	}
	// A path that did not exist before is new as a whole.
	if err := os.MkdirAll(filepath.Join(absent, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, _ := before.newEntries(absent); !slices.Equal(got, []string{absent}) {
		t.Fatalf("newEntries(absent) = %v", got)
	}
}

func TestWriteConfigsKeepStateUnderDir(t *testing.T) {
	dir := t.TempDir()
	p, err := makePKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	h := &hostNode{dir: filepath.Join(dir, "host"), progs: hostPrograms{runc: "/usr/sbin/runc", cniDir: "/usr/lib/cni"}}
	h.sock = h.path("containerd.sock")
	if err := h.writeConfigs(HostOptions{SandboxImage: "docker.io/library/regen-pause:3.10"}, "https://127.0.0.1:6443", p, 10250, 10248); err != nil {
		t.Fatal(err)
	}
	ctrd, _ := os.ReadFile(h.path("containerd.toml"))
	kubelet, _ := os.ReadFile(h.path("kubelet.yaml"))
	cni, _ := os.ReadFile(h.path("cni", "net.d", "10-regen.conflist"))
	for _, c := range []struct {
		file, body string
		want       []string
	}{
		{"containerd.toml", string(ctrd), []string{`root = "` + h.dir + `/containerd/root"`, `address = "` + h.sock + `"`, "restrict_oom_score_adj = true", "netns_mounts_under_state_dir = true", `sandbox_image = "docker.io/library/regen-pause:3.10"`, `Root = "` + h.dir + `/runc"`}},
		{"kubelet.yaml", string(kubelet), []string{"address: " + hostNodeIP, "port: 10250", "healthzBindAddress: 127.0.0.1", "anonymous:\n    enabled: false", "mode: Webhook", "containerRuntimeEndpoint: unix://" + h.sock, "failCgroupV1: false", `resolvConf: "` + h.dir + `/resolv.conf"`, "imageGCHighThresholdPercent: 100"}},
		{"10-regen.conflist", string(cni), []string{`"bridge": "` + podBridge + `"`, `"ipMasq": false`, `"subnet": "` + podSubnet + `"`, `"dataDir": "` + h.dir + `/cni/ipam"`}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.body, w) {
				t.Errorf("%s lacks %q:\n%s", c.file, w, c.body)
			}
		}
	}
	// No default route for pods: they reach their subnet only.
	if strings.Contains(string(cni), "0.0.0.0/0") || strings.Contains(string(cni), "isDefaultGateway") {
		t.Errorf("CNI config routes pods off the node:\n%s", cni)
	}
}

func TestCheckHostNamesWhatIsMissing(t *testing.T) {
	err := CheckHost(t.TempDir(), HostOptions{Containerd: "/nonexistent/containerd", CNIBinDir: "/nonexistent/cni"})
	if !errors.Is(err, ErrHostUnavailable) {
		t.Fatalf("CheckHost = %v, want ErrHostUnavailable", err)
	}
	for _, w := range []string{"/nonexistent/containerd", "kubelet", "bridge, host-local, loopback in /nonexistent/cni", "hack/controlplane.sh kubelet", "apt-get install -y containerd runc containernetworking-plugins"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("CheckHost error lacks %q: %v", w, err)
		}
	}
}
