package kube

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regen-dev/regen/internal/atomicfile"
)

// hostPaths are the host directories the kubelet, containerd, runc and the
// CNI plugins write to whatever their configuration says (hard-coded paths:
// /var/log/containers links, /var/lib/kubelet/device-plugins, the shims'
// sockets in /run/containerd/s, libcni's result cache). The snapshot records
// what was there, down to two levels; the sweep removes only what is new.
var hostPaths = []string{
	"/run/containerd", "/run/netns", "/run/runc",
	"/var/lib/kubelet", "/var/lib/cni", "/var/lib/containerd",
	"/var/log/pods", "/var/log/containers",
	"/usr/libexec/kubernetes", "/opt/containerd", "/opt/cni", "/etc/cni",
}

// hostSysctls are the kernel settings the kubelet (vm.*, kernel.*) and the
// bridge plugin (ip_forward) change; the sweep writes the old values back.
var hostSysctls = []string{
	"net/ipv4/ip_forward",
	"vm/overcommit_memory", "vm/panic_on_oom",
	"kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
}

// pathState is one host path before the node started.
type pathState struct {
	Existed bool     `json:"existed"`
	Entries []string `json:"entries,omitempty"` // relative, sorted, depth ≤ 2
}

// hostSnapshot is what the host looked like before a host node started, and
// where that node keeps its state. It is written to the ledger (hostLedger)
// first, so a run killed before its teardown is cleaned up by the next one.
type hostSnapshot struct {
	StateDir string               `json:"stateDir"`
	HostDir  string               `json:"hostDir"`
	Socket   string               `json:"socket"`
	Paths    map[string]pathState `json:"paths"`
	Sysctls  map[string]string    `json:"sysctls"`
	// Cgroups maps each cgroup hierarchy's mount point to its top-level
	// directories before the start (the kubelet makes kubepods in each).
	Cgroups  map[string][]string `json:"cgroups"`
	NFTables []string            `json:"nftTables,omitempty"`
	PID      int                 `json:"pid"`
}

func takeSnapshot(ctx context.Context, cmder Cmder, stateDir, hostDir, sock string) (*hostSnapshot, error) {
	s := &hostSnapshot{StateDir: stateDir, HostDir: hostDir, Socket: sock, Paths: map[string]pathState{},
		Sysctls: map[string]string{}, Cgroups: map[string][]string{}, PID: os.Getpid()}
	for _, p := range hostPaths {
		st, err := listTree(p, 2)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", p, err)
		}
		s.Paths[p] = st
	}
	for _, k := range hostSysctls {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			continue // not on this kernel: nothing to restore
		}
		s.Sysctls[k] = strings.TrimSpace(string(b))
	}
	hier, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	for _, h := range hier {
		dirs, err := topDirs(h)
		if err != nil {
			return nil, fmt.Errorf("snapshot cgroup %s: %w", h, err)
		}
		s.Cgroups[h] = dirs
	}
	s.NFTables = nftTables(ctx, cmder)
	return s, nil
}

// listTree lists path's entries to depth levels, relative and sorted.
func listTree(path string, depth int) (pathState, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return pathState{}, nil
	} else if err != nil {
		return pathState{}, err
	}
	st := pathState{Existed: true}
	var walk func(rel string, level int) error
	walk = func(rel string, level int) error {
		ents, err := os.ReadDir(filepath.Join(path, rel))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil
			}
			return err
		}
		for _, e := range ents {
			r := filepath.Join(rel, e.Name())
			st.Entries = append(st.Entries, r)
			if e.IsDir() && level < depth {
				if err := walk(r, level+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("", 1); err != nil {
		return pathState{}, err
	}
	slices.Sort(st.Entries)
	return st, nil
}

// newEntries returns what is under path now and was not before, shallowest
// first, and only the top of each new subtree.
func (ps pathState) newEntries(path string) ([]string, error) {
	now, err := listTree(path, 2)
	if err != nil || !now.Existed {
		return nil, err
	}
	if !ps.Existed {
		return []string{path}, nil
	}
	var out []string
	for _, e := range now.Entries {
		if _, found := slices.BinarySearch(ps.Entries, e); found {
			continue
		}
		if len(out) > 0 && strings.HasPrefix(e, strings.TrimPrefix(out[len(out)-1], path+"/")+"/") {
			continue // inside a new directory already listed
		}
		out = append(out, filepath.Join(path, e))
	}
	return out, nil
}

func cgroupHierarchies() ([]string, error) {
	mounts, err := readMountInfo()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mounts {
		if m.fstype == "cgroup" || m.fstype == "cgroup2" {
			out = append(out, m.point)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func topDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// nftTables lists the nftables tables ("ip filter", …); nil without nft.
func nftTables(ctx context.Context, cmder Cmder) []string {
	out, err := cmder.Command(ctx, "nft", "list", "tables").Output()
	if err != nil {
		return nil
	}
	var t []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "table" {
			t = append(t, f[1]+" "+f[2])
		}
	}
	slices.Sort(t)
	return t
}

type mount struct{ point, fstype string }

// readMountInfo parses /proc/self/mountinfo (mount point: field 5, octal
// escapes; fstype: the first field after " - ").
func readMountInfo() ([]mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountInfo(f)
}

func parseMountInfo(r interface{ Read([]byte) (int, error) }) ([]mount, error) {
	var out []mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		f := strings.Fields(pre)
		if !ok || len(f) < 5 {
			continue
		}
		fstype := ""
		if pf := strings.Fields(post); len(pf) > 0 {
			fstype = pf[0]
		}
		out = append(out, mount{point: unescapeOctal(f[4]), fstype: fstype})
	}
	return out, sc.Err()
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountsUnder returns the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	mounts, err := readMountInfo()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mounts {
		if m.point == dir || strings.HasPrefix(m.point, dir+"/") {
			out = append(out, m.point)
		}
	}
	// Deepest first; a path mounted twice is unmounted twice.
	slices.SortStableFunc(out, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return out, nil
}

// unmountUnder detaches every mount at or below dir; it reports what stays.
func unmountUnder(dir string) error {
	for range 3 {
		ms, err := mountsUnder(dir)
		if err != nil || len(ms) == 0 {
			return err
		}
		for _, m := range ms {
			_ = unmountDetach(m)
		}
	}
	if ms, _ := mountsUnder(dir); len(ms) > 0 {
		return fmt.Errorf("still mounted under %s: %s", dir, strings.Join(ms, ", "))
	}
	return nil
}

// liveSocket returns the first unix socket at or below path that accepts a
// connection ("" if none).
func liveSocket(path string) string {
	live := ""
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || live != "" || d.Type()&fs.ModeSocket == 0 {
			return nil
		}
		if c, err := net.DialTimeout("unix", p, 200*time.Millisecond); err == nil {
			_ = c.Close()
			live = p
			return filepath.SkipAll
		}
		return nil
	})
	return live
}

// removeTree unmounts what is mounted below path, then removes it; it never
// removes across a mount it could not detach.
func removeTree(path string) error {
	if err := unmountUnder(path); err != nil {
		return err
	}
	return os.RemoveAll(path)
}

func (s *hostSnapshot) writeLedger(hostLedger string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(hostLedger, b, 0o600); err != nil {
		return fmt.Errorf("write ledger: %w", err)
	}
	return nil
}

func readLedger(hostLedger string) (*hostSnapshot, error) {
	b, err := os.ReadFile(hostLedger)
	if err != nil {
		return nil, err
	}
	var s hostSnapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", hostLedger, err)
	}
	if s.StateDir == "" || s.HostDir == "" || s.Socket == "" {
		return nil, fmt.Errorf("ledger %s: incomplete", hostLedger)
	}
	return &s, nil
}

// sweep undoes everything a host node may have changed, in order: processes
// still running for it (shims, containers), mounts under its state dir,
// the links, sysctls, nftables tables, the host paths and cgroups that are
// new. Each step runs even if an earlier one failed; the error lists what
// is left behind.
func (s *hostSnapshot) sweep(ctx context.Context, cmder Cmder, sys hostSys, log *slog.Logger) error {
	var errs []error
	newCgroups := s.newCgroups()
	killLeftovers(s.Socket, s.StateDir, newCgroups, log)
	if err := unmountUnder(s.HostDir); err != nil {
		errs = append(errs, err)
	}
	for _, l := range []string{podBridge, hostNodeLink} {
		if sys.linkExists(l) {
			if out, err := cmder.Command(ctx, "ip", "link", "del", l).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("ip link del %s: %w: %s", l, err, strings.TrimSpace(string(out))))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Sysctls)) {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err == nil && strings.TrimSpace(string(b)) == s.Sysctls[k] {
			continue
		}
		if err := os.WriteFile("/proc/sys/"+k, []byte(s.Sysctls[k]+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", strings.ReplaceAll(k, "/", "."), s.Sysctls[k], err))
		}
	}
	for _, t := range nftTables(ctx, cmder) { // nil without nft
		if _, found := slices.BinarySearch(s.NFTables, t); found {
			continue
		}
		f := strings.Fields(t)
		if out, err := cmder.Command(ctx, "nft", "delete", "table", f[0], f[1]).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("nft delete table %s: %w: %s", t, err, strings.TrimSpace(string(out))))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(s.Paths)) {
		news, err := s.Paths[p].newEntries(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range news {
			// Another containerd on this machine (the system's, or a
			// developer's) may have made entries meanwhile, e.g. its shims'
			// sockets in /run/containerd/s: leave what still answers.
			if live := liveSocket(n); live != "" {
				log.Info("host node: left in place, in use by another program", "path", n, "socket", live)
				continue
			}
			if err := removeTree(n); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", n, err))
			}
		}
	}
	for _, cg := range newCgroups {
		if err := removeCgroup(cg); err != nil {
			errs = append(errs, err)
		}
	}
	// The node's bulk (image layers, snapshots, pod volumes); logs and
	// configuration stay in the state dir for inspection.
	for _, d := range []string{"containerd", "kubelet", "runc"} {
		if err := removeTree(filepath.Join(s.HostDir, d)); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d, err))
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(sys.ledger); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		return nil
	}
	return fmt.Errorf("host node teardown left things behind (ledger %s kept; the next run retries): %w", sys.ledger, errors.Join(errs...))
}

// newCgroups returns the top-level cgroup directories made since the
// snapshot, in every hierarchy.
func (s *hostSnapshot) newCgroups() []string {
	var out []string
	for _, h := range slices.Sorted(maps.Keys(s.Cgroups)) {
		now, err := topDirs(h)
		if err != nil {
			continue
		}
		for _, d := range now {
			if !slices.Contains(s.Cgroups[h], d) {
				out = append(out, filepath.Join(h, d))
			}
		}
	}
	return out
}

// ownPrograms are what a host node runs; a leftover is one of these whose
// command line names the run's state dir (a shell tailing a log there is not).
var ownPrograms = map[string]bool{
	"containerd": true, "containerd-shim-runc-v2": true, "kubelet": true, "etcd": true,
	"kube-apiserver": true, "kube-controller-manager": true, "kube-scheduler": true, "kwok": true,
}

// killLeftovers SIGKILLs every process whose command line names the run's
// state dir or containerd socket (the node's shims; after a crash, a
// component still shutting down, such as a kube-apiserver waiting for an
// etcd that is gone) and every process in the node's new cgroups (the
// containers), and waits up to 5 s for them to go.
func killLeftovers(sock, stateDir string, cgroups []string, log *slog.Logger) {
	pids := map[int]bool{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		argv0, _, _ := strings.Cut(string(b), "\x00")
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, sock) || (ownPrograms[filepath.Base(argv0)] && strings.Contains(cmd, stateDir+"/")) {
			pids[pid] = true
		}
	}
	for _, cg := range cgroups {
		_ = filepath.WalkDir(cg, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for f := range strings.FieldsSeq(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
					pids[pid] = true
				}
			}
			return nil
		})
	}
	for _, pid := range slices.Sorted(maps.Keys(pids)) {
		log.Debug("host node: kill leftover", "pid", pid)
		_ = killPid(pid)
	}
	deadline := time.Now().Add(5 * time.Second)
	for pid := range pids {
		for time.Now().Before(deadline) {
			if !pidAlive(pid) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// removeCgroup removes a cgroup directory tree bottom-up (cgroupfs removes a
// directory with rmdir once it has no processes and no children), retrying
// while killed processes exit.
func removeCgroup(dir string) error {
	var last error
	for range 50 {
		var dirs []string
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		if len(dirs) == 0 {
			return nil
		}
		last = nil
		for _, d := range slices.Backward(dirs) {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
				last = fmt.Errorf("rmdir cgroup %s: %w", d, err)
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}
