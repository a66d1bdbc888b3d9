package cpu

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strings"
)

// cpuModel returns the CPU model name from /proc/cpuinfo, or runtime.GOARCH
// where that file or the field is missing (non-Linux, most arm64 kernels).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	if m := parseCPUModel(f); m != "" {
		return m
	}
	return runtime.GOARCH
}

// parseCPUModel returns the first "model name" value of a /proc/cpuinfo
// listing, with runs of spaces collapsed, or "" if there is none.
func parseCPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(key) != "model name" {
			continue
		}
		return strings.Join(strings.Fields(val), " ")
	}
	return ""
}
