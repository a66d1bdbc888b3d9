package cluster

import (
	"net"
	"strings"
	"testing"
)

// defaultOnlyTable is /proc/net/route on a machine whose only routes are
// the default one (via 10.0.0.1) and its own /24: a kind pod's 10.244/16
// address is covered by the default route alone.
const defaultOnlyTable = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0100000A	0003	0	0	0	00000000	0	0	0
eth0	0000000A	00000000	0001	0	0	0	00FFFFFF	0	0	0
`

// hostNodeTable adds a host node's pod bridge (10.213.0.0/16 on cni0) and
// a route that is down.
const hostNodeTable = defaultOnlyTable + `cni0	0000D50A	00000000	0001	0	0	0	0000FFFF	0	0	0
tun0	0000F40A	00000000	0000	0	0	0	0000FFFF	0	0	0
`

func TestRouteCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, table, ip string
		ok              bool
		why             string
	}{
		{"pod bridge on the host", hostNodeTable, "10.213.0.7", true, "10.213.0.0/16 via cni0"},
		{"the host's own subnet", hostNodeTable, "10.0.0.9", true, "10.0.0.0/24 via eth0"},
		{"default route only", defaultOnlyTable, "10.244.0.4", false, "only this host's default route"},
		{"a route that is down does not count", hostNodeTable, "10.244.0.4", false, "only this host's default route"},
		{"no route at all", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n", "10.244.0.4", false, "no route to it"},
		{"IPv6 is not checked", hostNodeTable, "fd00::5", false, "only IPv4"},
		{"garbage lines are skipped", "header\nnot a route\neth0 zz 00 1 0 0 0 ff\n", "10.1.2.3", false, "no route to it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, why := routeCovers(strings.NewReader(tc.table), net.ParseIP(tc.ip))
			if ok != tc.ok || !strings.Contains(why, tc.why) {
				t.Errorf("routeCovers(%s) = %v, %q; want %v, containing %q", tc.ip, ok, why, tc.ok, tc.why)
			}
		})
	}
}

func TestSpecificRouteLoopback(t *testing.T) {
	t.Parallel()
	if ok, why := specificRoute(net.ParseIP("127.0.0.1")); !ok {
		t.Errorf("specificRoute(127.0.0.1) = false (%s); loopback is always routed", why)
	}
}
