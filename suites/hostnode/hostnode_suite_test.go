package hostnode_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/regen-dev/regen/internal/testutil"
	"github.com/regen-dev/regen/runner/kube"
	"github.com/regen-dev/regen/suites/internal/clustersuite"
)

func TestHostNode(t *testing.T) {
	// Say so at the test level, where go test (and hack/test.sh's summary)
	// sees it, rather than only as skipped specs.
	if err := hostNodeAvailable(); err != nil {
		if os.Getenv("REGEN_REQUIRE_HOST_NODE") == "1" {
			t.Fatalf("REGEN_REQUIRE_HOST_NODE=1 but the host node cannot run here: %v", err)
		}
		t.Skipf("host node not available: %v; enable: hack/hostnode.sh prepare (as root)", err)
	}
	// suites/kind changes the machine too (Docker, a kind node): one at a time, across
	// worktrees too. Taken here, outside every node timeout: the wait is the other
	// suite's whole run.
	release, err := testutil.LockMachine()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	RegisterFailHandler(Fail)
	RunSpecs(t, "Host node (real pods) Suite")
}

const repo = "../.."

var (
	binDir  string // control plane + kubelet
	exeDir  string // static regen-executor and regen-pause built for this suite
	skipWhy string
)

var _ = BeforeSuite(func(ctx SpecContext) {
	binDir = kube.DefaultBinDir()
	if err := hostNodeAvailable(); err != nil {
		if os.Getenv("REGEN_REQUIRE_HOST_NODE") == "1" {
			Fail("REGEN_REQUIRE_HOST_NODE=1 but the host node cannot run here: " + err.Error())
		}
		skipWhy = err.Error() + " (prepare with hack/hostnode.sh prepare, as root)"
		return
	}
	// The image carries the executor built from this tree, static like the
	// Dockerfile's; the pause binary next to it is found the same way.
	exeDir = GinkgoT().TempDir()
	for _, c := range []string{"regen", "regen-executor", "regen-pause"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(exeDir, c), "./cmd/"+c)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build %s: %s", c, out)
	}
}, NodeTimeout(5*time.Minute))

var _ = BeforeEach(func() {
	if skipWhy != "" {
		Skip("host node not available: " + skipWhy)
	}
})

// hostNodeAvailable says what this machine lacks for a host node: the
// control plane and kubelet build, root, containerd, runc, the CNI plugins.
func hostNodeAvailable() error {
	bin := kube.DefaultBinDir()
	if err := kube.CheckBinaries(bin); err != nil {
		return err
	}
	return kube.CheckHost(bin, kube.HostOptions{})
}

func logger() *slog.Logger { return clustersuite.Logger() }

// hostState is what a host node may change on this machine, read with plain
// tools and files, independently of runner/kube's own ledger.
type hostState struct {
	Links, Mounts, Procs, NFT, Cgroups, Paths []string
	Sysctls                                   map[string]string
}

func readHostState(ctx context.Context) hostState {
	var s hostState
	out, err := exec.CommandContext(ctx, "ip", "-o", "link", "show").Output()
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.Contains(f[1], "regen") {
			s.Links = append(s.Links, strings.TrimSuffix(f[1], ":"))
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.SplitSeq(string(mi), "\n") {
		if strings.Contains(line, "regen-host-") {
			s.Mounts = append(s.Mounts, line)
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), "regen-host-") {
			s.Procs = append(s.Procs, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if out, err := exec.CommandContext(ctx, "nft", "list", "tables").Output(); err == nil {
		s.NFT = strings.Fields(string(out))
	}
	hier, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range append(hier, "/sys/fs/cgroup") {
		dirs, _ := os.ReadDir(h)
		for _, d := range dirs {
			if d.IsDir() {
				s.Cgroups = append(s.Cgroups, filepath.Join(h, d.Name()))
			}
		}
	}
	for _, p := range []string{"/run/containerd", "/run/netns", "/var/lib/kubelet", "/var/lib/cni", "/var/log/pods", "/var/log/containers", "/run/regen-host-node.json"} {
		if _, err := os.Lstat(p); err == nil {
			s.Paths = append(s.Paths, p)
		}
	}
	s.Sysctls = map[string]string{}
	for _, k := range []string{"net/ipv4/ip_forward", "vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops", "vm/panic_on_oom"} {
		b, _ := os.ReadFile("/proc/sys/" + k)
		s.Sysctls[k] = strings.TrimSpace(string(b))
	}
	slices.Sort(s.Cgroups)
	return s
}

// expectHostRestored checks the machine looks as it did before the run.
func expectHostRestored(ctx context.Context, before hostState) {
	after := readHostState(ctx)
	Expect(after.Links).To(BeEmpty(), "network links left behind")
	Expect(after.Mounts).To(BeEmpty(), "mounts left behind")
	Expect(after.Procs).To(BeEmpty(), "processes left behind")
	Expect(after.NFT).To(Equal(before.NFT), "nftables tables changed")
	Expect(after.Cgroups).To(Equal(before.Cgroups), "cgroups changed")
	Expect(after.Paths).To(Equal(before.Paths), "host paths changed")
	Expect(after.Sysctls).To(Equal(before.Sysctls), "sysctls not restored")
}
