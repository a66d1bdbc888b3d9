package kind_test

import (
	"context"
	"errors"
	"fmt"
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
	clustertarget "github.com/regen-dev/regen/runner/target/cluster"
	"github.com/regen-dev/regen/suites/internal/clustersuite"
)

const repo = "../.."

var kindnode = filepath.Join(repo, "hack", "kindnode.sh")

func TestKind(t *testing.T) {
	if err := kindAvailable(); err != nil {
		if os.Getenv("REGEN_REQUIRE_KIND") == "1" {
			t.Fatalf("REGEN_REQUIRE_KIND=1 but kind cannot run here: %v", err)
		}
		t.Skipf("kind not available: %v; enable: hack/kindnode.sh build (make kind-node-image, as root)", err)
	}
	// suites/hostnode changes the machine too (a host node): one at a time, across
	// worktrees too. Taken here, outside every node timeout: the wait is the other
	// suite's whole run.
	release, err := testutil.LockMachine()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	RegisterFailHandler(Fail)
	RunSpecs(t, "kind (offline node image) Suite")
}

var (
	exeDir    string    // static regen-executor built for this suite
	before    hostState // the machine before the suite started Docker
	startedBy bool      // this suite started regen's dockerd
)

// kindAvailable says what this machine lacks: root, the node image and kind
// built by hack/kindnode.sh, Debian's dockerd.
func kindAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("not root (regen's dockerd and kind's privileged node need it)")
	}
	if _, err := os.Stat("/usr/sbin/dockerd"); err != nil {
		return errors.New("no /usr/sbin/dockerd (apt-get install docker.io)")
	}
	for _, a := range []string{"check", "kind"} {
		if out, err := exec.Command(kindnode, a).CombinedOutput(); err != nil {
			return fmt.Errorf("hack/kindnode.sh %s: %v: %s", a, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

func kindnodeOut(ctx context.Context, args ...string) string {
	cmd := exec.CommandContext(ctx, kindnode, args...)
	cmd.Stderr = GinkgoWriter
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "hack/kindnode.sh %s", strings.Join(args, " "))
	return strings.TrimSpace(string(out))
}

var _ = BeforeSuite(func(ctx SpecContext) {
	if err := kindAvailable(); err != nil {
		Fail("kind not available: " + err.Error())
	}
	exeDir = GinkgoT().TempDir()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(exeDir, "regen-executor"), "./cmd/regen-executor")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build regen-executor: %s", out)

	before = readHostState(ctx)
	host := kindnodeOut(ctx, "docker-start")
	startedBy = strings.Contains(host, "/run/regen-docker/")
	GinkgoT().Setenv("DOCKER_HOST", host)
	GinkgoT().Setenv(clustertarget.EnvKind, kindnodeOut(ctx, "kind"))
	GinkgoT().Setenv(clustertarget.EnvKindNodeImage, kindnodeOut(ctx, "load"))
}, NodeTimeout(5*time.Minute))

var _ = AfterSuite(func(ctx SpecContext) {
	if !startedBy {
		return
	}
	cmd := exec.CommandContext(ctx, kindnode, "docker-stop")
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(cmd.Run()).To(Succeed())
	expectHostRestored(ctx, before)
}, NodeTimeout(2*time.Minute))

func logger() *slog.Logger { return clustersuite.Logger() }

// hostState is what Docker and a kind node may change on this machine, read
// with plain tools and files.
type hostState struct {
	Links, Mounts, Procs, NFT, IPTables []string
	Sysctls                             map[string]string
}

func readHostState(ctx context.Context) hostState {
	var s hostState
	out, err := exec.CommandContext(ctx, "ip", "-o", "link", "show").Output()
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.SplitSeq(string(out), "\n") {
		// Docker's bridges and the node's veth (other engineers' host nodes
		// make regen-* links of their own: not ours to judge).
		if f := strings.Fields(line); len(f) > 1 && (strings.HasPrefix(f[1], "docker") || strings.HasPrefix(f[1], "br-") || strings.HasPrefix(f[1], "veth")) {
			s.Links = append(s.Links, strings.TrimSuffix(f[1], ":"))
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.SplitSeq(string(mi), "\n") {
		if f := strings.Fields(line); len(f) > 4 && (strings.Contains(f[4], "regen-docker") || strings.Contains(f[4], "/regen/docker") || strings.Contains(f[4], "kind")) {
			s.Mounts = append(s.Mounts, f[4])
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && (strings.Contains(string(b), "regen-docker") || strings.Contains(string(b), "docker-proxy") || strings.Contains(string(b), "dockerd")) {
			s.Procs = append(s.Procs, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if out, err := exec.CommandContext(ctx, "nft", "list", "tables").Output(); err == nil {
		s.NFT = strings.Fields(string(out))
	}
	for _, table := range []string{"filter", "nat", "mangle", "raw"} {
		if out, err := exec.CommandContext(ctx, "iptables", "-t", table, "-S").Output(); err == nil {
			s.IPTables = append(s.IPTables, strings.Split(strings.TrimSpace(string(out)), "\n")...)
		}
	}
	s.Sysctls = map[string]string{}
	for _, k := range []string{"net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding", "vm/overcommit_memory", "kernel/panic", "kernel/keys/maxkeys"} {
		b, _ := os.ReadFile("/proc/sys/" + k)
		s.Sysctls[k] = strings.TrimSpace(string(b))
	}
	slices.Sort(s.Links)
	slices.Sort(s.Mounts)
	return s
}

// expectHostRestored checks the machine looks as it did before the suite.
func expectHostRestored(ctx context.Context, before hostState) {
	after := readHostState(ctx)
	Expect(after.Links).To(Equal(before.Links), "network links")
	Expect(after.Mounts).To(Equal(before.Mounts), "mount points")
	Expect(after.Procs).To(Equal(before.Procs), "Docker, shim or node processes")
	Expect(after.NFT).To(Equal(before.NFT), "nftables tables")
	Expect(after.IPTables).To(Equal(before.IPTables), "iptables rules and policies")
	Expect(after.Sysctls).To(Equal(before.Sysctls), "sysctls")
}
