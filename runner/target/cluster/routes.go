package cluster

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"strconv"
	"strings"
)

// specificRoute says whether this host routes ip through a route of its own
// (a pod network's bridge, a cluster's VPN route) rather than only through
// its default route. A pod IP that only the default route covers is not on
// any network of this host: a probe sent to it leaves the machine through
// the default gateway, which on some networks answers every address (an
// egress proxy). The runner never sends it there; it port-forwards instead.
// Loopback addresses always count as routed. The table read is Linux's
// /proc/net/route (the main table, IPv4); elsewhere, or for IPv6, the
// answer is no, and the run port-forwards.
func specificRoute(ip net.IP) (bool, string) {
	if ip.IsLoopback() {
		return true, "loopback"
	}
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return false, "this host's routing table cannot be read"
	}
	defer f.Close()
	return routeCovers(f, ip)
}

// routeCovers reads a /proc/net/route table and answers whether a route
// other than the default one (prefix /0) covers ip, with the interface
// and prefix of the longest match, or why not.
func routeCovers(r io.Reader, ip net.IP) (bool, string) {
	ip4 := ip.To4()
	if ip4 == nil {
		return false, "no IPv4 address (only IPv4 routes are checked)"
	}
	addr := binary.BigEndian.Uint32(ip4)
	best, bestLen, found := "", -1, false
	sc := bufio.NewScanner(r)
	for first := true; sc.Scan(); first = false {
		if first {
			continue // the header line
		}
		fl := strings.Fields(sc.Text())
		if len(fl) < 8 {
			continue
		}
		dst, err1 := hexLE32(fl[1])
		mask, err2 := hexLE32(fl[7])
		flags, err3 := strconv.ParseUint(fl[3], 16, 32)
		if err1 != nil || err2 != nil || err3 != nil || flags&0x1 == 0 { // RTF_UP
			continue
		}
		if addr&mask != dst&mask {
			continue
		}
		if n := bits.OnesCount32(mask); n > bestLen {
			best, bestLen, found = fmt.Sprintf("%s/%d via %s", int2ip(dst), n, fl[0]), n, true
		}
	}
	switch {
	case !found:
		return false, "no route to it on this host"
	case bestLen == 0:
		return false, "only this host's default route covers it (a probe would leave the machine)"
	}
	return true, best
}

// hexLE32 parses /proc/net/route's little-endian hex address as a
// big-endian uint32 (network order).
func hexLE32(s string) (uint32, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return 0, fmt.Errorf("parse route address %q", s)
	}
	return binary.LittleEndian.Uint32(b), nil
}

func int2ip(v uint32) net.IP {
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
