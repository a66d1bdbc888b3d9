#!/usr/bin/env bash
# The kind node image, built offline by the project (issue 18): kind (v0.33.0) pulls
# kindest/node from a registry, and none is reachable here. This script builds an
# equivalent node image from Debian's archive and the Go module proxy only:
#   - a Debian bookworm rootfs (debootstrap: systemd, containerd, runc, CNI plugins,
#     iptables/nftables, ...), cached;
#   - kind's base files from the sigs.k8s.io/kind@v0.33.0 module (images/base/files:
#     entrypoint, units, containerd config), the steps of its base Dockerfile done by hand;
#   - kubelet, kubeadm, kube-proxy, kubectl v1.37.2 built as hack/kube builds the control
#     plane (hack/controlplane.sh node);
#   - every image `kubeadm config images list` asks for, made FROM scratch of our Go-built
#     static binaries (kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy
#     with Debian's iptables, etcd v3.7.0, coredns v1.14.6, pause = cmd/regen-pause),
#     imported into the node's containerd (k8s.io namespace, pinned) at build time the way
#     `kind build node-image` does (its own command fetches content and cannot run offline);
#   - local-path-provisioner v0.0.30 built from its Go module (static) into a FROM-scratch
#     image, a helper image (sh, mkdir, rm and their libraries from the rootfs, as kind's
#     own helper image stages them), both imported like the images above, and kind's own
#     default storage manifest at /kind/manifests/default-storage.yaml, read from the
#     kind module's source by hack/kindnode/kindstorage with only the two image names
#     changed: `kind create cluster` applies it, so the default `standard` StorageClass
#     is backed by the provisioner (WaitForFirstConsumer, volumes under
#     /var/local-path-provisioner in the node), as on a kindest/node. kind v0.33.0 builds
#     v0.0.34, which the Go module proxy does not serve: v0.0.30 is its latest there;
#   - no kindnetd (not on the Go module proxy): a bridge CNI config (single node, no
#     masquerade, no default route: pods cannot reach off the node; one route, to the
#     Service range 10.96.0.0/16 through the node, where kube-proxy's rules DNAT it: the
#     apiserver's 10.96.0.1 for CoreDNS, which without it is never Ready; what is still
#     addressed to that range after kube-proxy's DNAT is refused in the node,
#     hack/kindnode/regen-node-checks, not sent on). A kind config must say `disableDefaultCNI: true`
#     and keep kind's default pod and Service ranges (runner/target/cluster.KindConfig).
# Sandbox fixes, each behind a check so a normal machine skips it (hack/kindnode/):
# regen-runc drops CAP_SYS_RESOURCE when the bounding set lacks it (dockerd's default
# runtime, the node containerd's runc BinaryName); regen-node-checks sets
# restrict_oom_score_adj and kubelet --fail-cgroupv1=false at node start.
#
# Docker is Debian's docker.io, run by this script when no daemon answers: dockerd
# started and stopped by PID, data under the cache, its own socket, and told to leave
# the host's firewall and forwarding alone (--iptables=false --ip-forward=false
# --bridge=none); the FORWARD policy and ip_forward are recorded before and restored
# after all the same.
#
# Usage:
#   hack/kindnode.sh build         build what is missing; prints the node image reference last
#   hack/kindnode.sh check         exit 0 when the node image archive is cached
#   hack/kindnode.sh image         print the node image reference
#   hack/kindnode.sh archive       print the cached node image archive (docker save)
#   hack/kindnode.sh kind          print the kind binary (built from sigs.k8s.io/kind@v0.33.0)
#   hack/kindnode.sh docker-start  start regen's dockerd unless one answers; prints DOCKER_HOST
#   hack/kindnode.sh docker-stop   stop regen's dockerd (by PID) and restore the host
#   hack/kindnode.sh load          docker load the cached node image if Docker lacks it
#
# REGEN_CACHE (default ~/.cache/regen) moves the cache.
set -o errexit -o nounset -o pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

kind_version=v0.33.0
kube_version=v1.37.2
etcd_version=v3.7.0
coredns_version=v1.14.6
lpp_version=v0.0.30
suite=bookworm
# Bump rev when the recipe changes: it is part of the cache key and the image tag.
rev=r5
cache=${REGEN_CACHE:-$HOME/.cache/regen}
key="kindnode-kind-${kind_version}-kube-${kube_version}-${suite}"
dir="$cache/$key"
bin="$dir/bin"
node_ref="regen.local/kindnode:${kube_version}-${rev}"
archive="$dir/node-image-${rev}.tar"
mirror=${REGEN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The storage images kind's default storage manifest is pointed at (in place of its
# docker.io/kindest ones).
lpp_ref="regen.local/local-path-provisioner:${lpp_version}"
helper_ref="regen.local/local-path-helper:${suite}-${rev}"

# Docker: Debian's client (the PATH may have a newer one first, and its builder is
# BuildKit; the classic builder builds FROM scratch offline).
# A machine with another Docker (docker-ce, Desktop) uses its client.
docker=/usr/bin/docker
[ -x "$docker" ] || docker=$(command -v docker || echo /usr/bin/docker)
drun=/run/regen-docker
dsock="unix://$drun/docker.sock"
dstate="$cache/docker-state"

export GOTOOLCHAIN=local CGO_ENABLED=0

log() { echo "== $*" >&2; }
die() { echo "kindnode: $*" >&2; exit 1; }

# The packages the node's rootfs gets (kind's base Dockerfile, with Debian's
# containerd, runc and CNI plugins in place of its own builds).
packages=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,jq,procps,socat,e2fsprogs

prereqs() {
	local missing=()
	command -v debootstrap >/dev/null || missing+=(debootstrap)
	# Debian's docker.io only where no Docker is installed (it conflicts with docker-ce).
	[ -x "$docker" ] || [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
	command -v jq >/dev/null || missing+=(jq)
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		die "missing ${missing[*]}: install them (Debian: apt-get install -y ${missing[*]}) as root"
	fi
	log "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
}

# kind, coredns, etcd v3.7.0, local-path-provisioner and the pause binary, into $bin.
binaries() {
	mkdir -p "$bin"
	local t0
	if [ ! -x "$bin/kind" ]; then
		t0=$(date +%s)
		log "build kind $kind_version"
		GOFLAGS= GOBIN="$bin/.gobin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$kind_version"
		mv "$bin/.gobin/kind" "$bin/kind" && rmdir "$bin/.gobin"
		log "kind built in $(($(date +%s) - t0)) s"
	fi
	if [ ! -x "$bin/coredns" ]; then
		t0=$(date +%s)
		log "build coredns $coredns_version"
		GOFLAGS= GOBIN="$bin/.gobin" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$coredns_version"
		mv "$bin/.gobin/coredns" "$bin/coredns" && rmdir "$bin/.gobin"
		log "coredns built in $(($(date +%s) - t0)) s"
	fi
	if [ ! -x "$bin/etcd" ]; then
		t0=$(date +%s)
		log "build etcd $etcd_version"
		(cd "$root/hack/kindnode/etcd" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3)
		mv "$bin/etcd.tmp" "$bin/etcd"
		log "etcd built in $(($(date +%s) - t0)) s"
	fi
	if [ ! -x "$bin/local-path-provisioner" ]; then
		t0=$(date +%s)
		log "build local-path-provisioner $lpp_version"
		GOFLAGS= GOBIN="$bin/.gobin" go install -trimpath -ldflags "-s -w" "github.com/rancher/local-path-provisioner@$lpp_version"
		mv "$bin/.gobin/local-path-provisioner" "$bin/local-path-provisioner" && rmdir "$bin/.gobin"
		log "local-path-provisioner built in $(($(date +%s) - t0)) s"
	fi
	# The pause image's binary is the project's own (cmd/regen-pause), rebuilt each time
	# (seconds) so the image carries this checkout's.
	(cd "$root" && go build -trimpath -ldflags "-s -w" -o "$bin/regen-pause" ./cmd/regen-pause)
	install -m 0755 "$root/hack/kindnode/regen-runc" "$bin/regen-runc"
}

rootfs() {
	[ -f "$dir/rootfs/.complete" ] && return 0
	local t0
	t0=$(date +%s)
	log "debootstrap $suite ($mirror)"
	# The cache's directory may not exist yet on a fresh machine: rootfs runs
	# beside the binaries' build, which makes it too, and may come second.
	mkdir -p "$dir"
	rm -rf "$dir/rootfs.tmp"
	debootstrap --variant=minbase --include="$packages" "$suite" "$dir/rootfs.tmp" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$dir/debootstrap.log" >&2; die "debootstrap failed (log: $dir/debootstrap.log)"; }
	rm -rf "$dir/rootfs.tmp/var/cache/apt/archives"/*.deb "$dir/rootfs.tmp/var/lib/apt/lists"/*
	touch "$dir/rootfs.tmp/.complete"
	rm -rf "$dir/rootfs" && mv "$dir/rootfs.tmp" "$dir/rootfs"
	log "rootfs in $(($(date +%s) - t0)) s"
}

# --- Docker --------------------------------------------------------------------------

docker_answers() { timeout 10 "$docker" ${1:+-H "$1"} info >/dev/null 2>&1; }

# The Docker daemon this script and the kind flow use: $DOCKER_HOST or the default
# socket if a daemon answers there, else regen's own.
docker_start() {
	if [ -n "${DOCKER_HOST:-}" ] && docker_answers "$DOCKER_HOST"; then echo "$DOCKER_HOST"; return; fi
	if [ -z "${DOCKER_HOST:-}" ] && docker_answers ""; then echo "unix:///var/run/docker.sock"; return; fi
	if docker_answers "$dsock"; then echo "$dsock"; return; fi
	[ "$(id -u)" = 0 ] || die "no Docker daemon answers, and starting regen's needs root"
	prereqs
	[ -x /usr/sbin/dockerd ] || die "no Docker daemon answers and no /usr/sbin/dockerd to start (Debian: apt-get install docker.io)"
	mkdir -p "$drun" "$dstate" "$cache/docker"
	# Record what dockerd is known to change, once (a crashed run's record stays).
	if [ ! -f "$dstate/forward-policy" ]; then
		iptables -S FORWARD 2>/dev/null | sed -n 's/^-P FORWARD //p' >"$dstate/forward-policy" || true
		cat /proc/sys/net/ipv4/ip_forward >"$dstate/ip_forward"
	fi
	local runtime=()
	if ! has_sys_resource; then
		# Privileged containers (kind's node) would fail "unable to apply caps".
		log "no CAP_SYS_RESOURCE in the bounding set: dockerd runs containers through regen-runc"
		install -m 0755 "$root/hack/kindnode/regen-runc" "$drun/regen-runc"
		runtime=(--add-runtime "regen-runc=$drun/regen-runc" --default-runtime regen-runc)
	fi
	log "start dockerd (data $cache/docker, socket $dsock)"
	setsid /usr/sbin/dockerd --data-root "$cache/docker" --exec-root "$drun/exec" \
		--pidfile "$drun/dockerd.pid" -H "$dsock" \
		--iptables=false --ip-forward=false --ip-masq=false --bridge=none --cgroup-parent=/regen-docker \
		"${runtime[@]}" >"$dstate/dockerd.log" 2>&1 </dev/null &
	local i
	for i in $(seq 1 60); do
		docker_answers "$dsock" && { echo "$dsock"; return; }
		kill -0 $! 2>/dev/null || break
		sleep 1
	done
	tail -n 20 "$dstate/dockerd.log" >&2
	docker_stop >&2 || true
	die "dockerd did not start (log: $dstate/dockerd.log)"
}

docker_stop() {
	local pid
	if [ -f "$drun/dockerd.pid" ]; then
		pid=$(cat "$drun/dockerd.pid")
		if kill -0 "$pid" 2>/dev/null; then
			# Containers first (a kind node left behind), then the networks kind made.
			local ids
			ids=$("$docker" -H "$dsock" ps -aq 2>/dev/null || true)
			[ -z "$ids" ] || "$docker" -H "$dsock" rm -f $ids >/dev/null 2>&1 || true
			"$docker" -H "$dsock" network rm kind >/dev/null 2>&1 || true
			log "stop dockerd (pid $pid)"
			kill -TERM "$pid"
			local i
			for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
			kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; sleep 1; }
		fi
		rm -f "$drun/dockerd.pid"
	fi
	# dockerd's containerd lives as long as dockerd; the mounts it made go with exec-root.
	if mountpoint -q "$drun/exec/netns" 2>/dev/null; then umount "$drun/exec/netns" || true; fi
	rm -rf "$drun"
	# The containers' cgroups (cgroupfs driver, under --cgroup-parent): empty once the
	# containers are gone; rmdir depth first, on every hierarchy.
	local cg
	for cg in /sys/fs/cgroup/regen-docker /sys/fs/cgroup/*/regen-docker; do
		[ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	if [ -f "$dstate/forward-policy" ]; then
		local policy fwd
		policy=$(cat "$dstate/forward-policy")
		fwd=$(cat "$dstate/ip_forward")
		if [ -n "$policy" ] && ! iptables -S FORWARD | grep -qx -- "-P FORWARD $policy"; then
			log "restore iptables FORWARD policy $policy"
			iptables -P FORWARD "$policy"
		fi
		if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$fwd" ]; then
			log "restore net.ipv4.ip_forward=$fwd"
			echo "$fwd" >/proc/sys/net/ipv4/ip_forward
		fi
		rm -f "$dstate/forward-policy" "$dstate/ip_forward"
	fi
}

has_sys_resource() {
	local bnd
	bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
	[ -z "$bnd" ] || [ $(((0x$bnd >> 24) & 1)) -eq 1 ]
}

# --- the node image ------------------------------------------------------------------

# The node's filesystem: the cached rootfs plus kind's base files and our binaries,
# kind's base Dockerfile done by hand. Prints nothing; leaves $dir/node.tmp.
assemble() {
	local kbin=$1 kindmod=$2 n="$dir/node.tmp" f
	rm -rf "$n" && cp -a "$dir/rootfs" "$n" && rm -f "$n/.complete"
	local files="$kindmod/images/base/files"
	install -m 0755 "$files"/usr/local/bin/* "$n/usr/local/bin/"
	mkdir -p "$n/kind/bin" "$n/LICENSES" "$n/etc/containerd" "$n/etc/systemd/system/kubelet.service.d" "$n/etc/sysctl.d" "$n/etc/default"
	install -m 0644 "$files"/kind/README.txt "$n/kind/"
	install -m 0755 "$files"/kind/bin/* "$n/kind/bin/"
	chmod 0755 "$n/kind" "$n/kind/bin"
	install -m 0644 "$files"/LICENSES/* "$n/LICENSES/"
	install -m 0644 "$files"/etc/crictl.yaml "$n/etc/"
	install -m 0644 "$files"/etc/containerd/* "$n/etc/containerd/"
	install -m 0644 "$files"/etc/default/* "$n/etc/default/"
	install -m 0644 "$files"/etc/sysctl.d/* "$n/etc/sysctl.d/"
	for f in "$files"/etc/systemd/system/*; do [ -f "$f" ] && install -m 0644 "$f" "$n/etc/systemd/system/"; done
	install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$n/etc/systemd/system/kubelet.service.d/"
	# kind's units and scripts expect its own containerd build in /usr/local/bin;
	# Debian's is in /usr/bin (its shim too, found on PATH).
	ln -sf /usr/bin/containerd "$n/usr/local/bin/containerd"
	ln -sf /usr/bin/ctr "$n/usr/local/bin/ctr"
	# The CNI plugins: Debian's, where containerd's CRI looks for them.
	mkdir -p "$n/opt/cni/bin" "$n/etc/cni/net.d"
	for f in "$n"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/$(basename "$f")" "$n/opt/cni/bin/"; done
	install -m 0644 "$root/hack/kindnode/10-regen-bridge.conflist" "$n/etc/cni/net.d/"
	# The Kubernetes node binaries, where kind's build puts them.
	for f in kubelet kubeadm kubectl; do install -m 0755 "$kbin/$f" "$n/usr/bin/$f"; done
	install -m 0755 "$root/hack/kindnode/regen-runc" "$n/usr/local/sbin/regen-runc"
	install -m 0755 "$root/hack/kindnode/regen-node-checks" "$n/usr/local/bin/regen-node-checks"
	# containerd: the sandbox image kubeadm asks for, runc through the wrapper.
	local pause
	pause=$("$kbin/kubeadm" config images list --kubernetes-version "$kube_version" 2>/dev/null | grep /pause:)
	sed -i "s|sandbox_image = .*|sandbox_image = \"$pause\"|" "$n/etc/containerd/config.toml"
	sed -i 's|^\(\s*\)SystemdCgroup = true|&\n\1BinaryName = "/usr/local/sbin/regen-runc"|' "$n/etc/containerd/config.toml"
	grep -q 'BinaryName = "/usr/local/sbin/regen-runc"' "$n/etc/containerd/config.toml" || die "containerd config: BinaryName not set"
	# The runtime spec base (kind's: ctr oci spec, the product-files hook, no rlimits).
	chroot "$n" /usr/bin/ctr oci spec |
		jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
		jq 'del(.process.rlimits)' >"$n/etc/containerd/cri-base.json"
	# kind's clean-up of systemd's units, then its enables.
	rm -f "$n"/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \
		"$n"/lib/systemd/system/multi-user.target.wants/* "$n"/lib/systemd/system/local-fs.target.wants/* \
		"$n"/lib/systemd/system/sockets.target.wants/*udev* "$n"/lib/systemd/system/sockets.target.wants/*initctl* \
		"$n"/lib/systemd/system/basic.target.wants/*
	find "$n/etc/systemd/system" -path '*.wants/*' -delete
	echo "ReadKMsg=no" >>"$n/etc/systemd/journald.conf"
	ln -sf /usr/lib/systemd/systemd "$n/sbin/init"
	chroot "$n" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
	chroot "$n" systemctl mask systemd-binfmt.service >/dev/null 2>&1
	mkdir -p "$n/etc/kubernetes/manifests"
	printf '%s' "$kube_version" >"$n/kind/version"
	# kind's default storage manifest, where its node-image build writes it and its
	# cluster creation reads it (without it kind falls back on a host-path class).
	mkdir -p "$n/kind/manifests"
	(cd "$root" && go run ./hack/kindnode/kindstorage -kind "$kindmod" -provisioner-image "$lpp_ref" -helper-image "$helper_ref") \
		>"$n/kind/manifests/default-storage.yaml" || die "kind's default storage manifest"
	printf 'regen kind node image %s: built offline by hack/kindnode.sh (issue 18)\n' "$rev" >"$n/kind/regen"
}

# The helper pod's files (what local-path-provisioner runs to make and remove a
# volume's directory), staged as kind's local-path-helper image stages them: sh, mkdir
# and rm, the libraries they load, the links to them resolved, and each package's
# copyright. Paths relative to the rootfs, usr-merged.
helper_files() {
	local r="$dir/rootfs" b p f pkg
	for b in sh mkdir rm; do
		p=$(chroot "$r" /bin/sh -c "command -v $b")
		{ echo "$p"; chroot "$r" ldd "$p" | sed -E 's#.* => /#/#' | awk '$1 ~ /^\// {print $1}'; } |
			while read -r f; do echo "$f"; chroot "$r" readlink -f "$f"; done
	done | sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#' | sort -u | while read -r f; do
		echo ".$f"
		# dpkg knows a usr-merged file by its unmerged path.
		pkg=$({ chroot "$r" dpkg -S "$f" || chroot "$r" dpkg -S "${f#/usr}"; } 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1)
		[ -z "$pkg" ] || [ ! -f "$r/usr/share/doc/$pkg/copyright" ] || echo "./usr/share/doc/$pkg/copyright"
	done
	# bookworm is usr-merged: /bin, /sbin, /lib, /lib64 are links into /usr.
	echo ./bin ./sbin ./lib ./lib64 | tr ' ' '\n'
}

# The storage images of kind's default storage manifest, into $1/<name>: the
# provisioner (our static build, FROM scratch) and the helper pod's image.
storage_images() {
	local ctx=$1 p="$1/local-path-provisioner" h="$1/local-path-helper"
	mkdir -p "$p/LICENSES" "$h/root"
	cp "$bin/local-path-provisioner" "$p/"
	# Its licence, from the module (downloaded again if the module cache was cleaned
	# since the binary was built).
	local mod
	mod=$(GOFLAGS= go mod download -json "github.com/rancher/local-path-provisioner@$lpp_version" | jq -r .Dir)
	install -m 0644 "$mod/LICENSE" "$p/LICENSES/local-path-provisioner"
	# kind's manifest runs `local-path-provisioner --debug start ...`: found on PATH.
	printf 'FROM scratch\nENV PATH=/usr/local/bin:/usr/bin:/bin\nCOPY LICENSES/ /LICENSES/\nCOPY local-path-provisioner /usr/local/bin/local-path-provisioner\nENTRYPOINT ["/usr/local/bin/local-path-provisioner"]\n' >"$p/Dockerfile"
	helper_files | sort -u | tar -C "$dir/rootfs" -c --no-recursion -T - | tar -x -C "$h/root"
	# What the manifest's setup and teardown scripts do, in the staged tree.
	chroot "$h/root" /bin/sh -c 'set -eu; mkdir -m 0777 -p /v/pvc && rm -rf /v' || die "helper image: sh, mkdir, rm do not run"
	printf 'FROM scratch\nCOPY root/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n' >"$h/Dockerfile"
}

# The component images, FROM scratch, built with the classic builder; saved to $1.
components() {
	local kbin=$1 out=$2 ctx="$dir/images.tmp" img name tag refs=()
	rm -rf "$ctx" && mkdir -p "$ctx"
	for img in $("$kbin/kubeadm" config images list --kubernetes-version "$kube_version"); do
		name=${img%:*}
		name=${name##*/}
		mkdir -p "$ctx/$name"
		case $name in
		kube-apiserver | kube-controller-manager | kube-scheduler)
			cp "$kbin/$name" "$ctx/$name/"
			printf 'FROM scratch\nENV PATH=/usr/local/bin:/usr/bin:/bin\nCOPY %s /usr/local/bin/%s\nENTRYPOINT ["/usr/local/bin/%s"]\n' "$name" "$name" "$name" >"$ctx/$name/Dockerfile"
			;;
		kube-proxy)
			# kube-proxy drives iptables: Debian's iptables (nft backend, as the node's)
			# and conntrack with the libraries they load, from the node rootfs.
			cp "$kbin/kube-proxy" "$ctx/$name/"
			mkdir -p "$ctx/$name/root"
			(cd "$dir/rootfs" && {
				chroot . dpkg -L iptables libxtables12 libip4tc2 libip6tc2 libnftnl11 libmnl0 libnetfilter-conntrack3 libnfnetlink0 conntrack libc6 libgcc-s1 |
					sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#' |
					while read -r f; do [ -f ".$f" ] || [ -L ".$f" ] && echo ".$f"; done
				# bookworm is usr-merged: /lib, /lib64, /bin, /sbin are links into /usr.
				echo ./bin ./sbin ./lib ./lib64 | tr ' ' '\n'
				ls -d ./etc/alternatives/ip*tables* ./usr/sbin/ip*tables* ./usr/sbin/xtables* 2>/dev/null
			} | sort -u | tar -c --no-recursion -T - | tar -x -C "$ctx/$name/root")
			chroot "$ctx/$name/root" /usr/sbin/iptables --version >/dev/null || die "kube-proxy image: iptables does not run"
			printf 'FROM scratch\nCOPY root/ /\nCOPY kube-proxy /usr/local/bin/kube-proxy\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT ["/usr/local/bin/kube-proxy"]\n' >"$ctx/$name/Dockerfile"
			;;
		etcd)
			tag=${img##*:}
			[ "${tag%-*}" = "${etcd_version#v}" ] || die "kubeadm asks for $img, this script builds etcd $etcd_version"
			cp "$bin/etcd" "$ctx/$name/"
			printf 'FROM scratch\nENV PATH=/usr/local/bin:/usr/bin:/bin\nCOPY etcd /usr/local/bin/etcd\nENTRYPOINT ["/usr/local/bin/etcd"]\n' >"$ctx/$name/Dockerfile"
			;;
		coredns)
			tag=${img##*:}
			[ "$tag" = "$coredns_version" ] || die "kubeadm asks for $img, this script builds coredns $coredns_version"
			cp "$bin/coredns" "$ctx/$name/"
			printf 'FROM scratch\nCOPY coredns /coredns\nEXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n' >"$ctx/$name/Dockerfile"
			;;
		pause)
			cp "$bin/regen-pause" "$ctx/$name/pause"
			printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$ctx/$name/Dockerfile"
			;;
		*) die "kubeadm asks for $img: no recipe for it" ;;
		esac
		log "image $img"
		DOCKER_BUILDKIT=0 "$docker" -H "$DOCKER_HOST" build -q -t "$img" "$ctx/$name" >/dev/null
		refs+=("$img")
	done
	storage_images "$ctx"
	for img in "$lpp_ref" "$helper_ref"; do
		name=${img%:*}
		name=${name##*/}
		log "image $img"
		DOCKER_BUILDKIT=0 "$docker" -H "$DOCKER_HOST" build -q -t "$img" "$ctx/$name" >/dev/null
		refs+=("$img")
	done
	"$docker" -H "$DOCKER_HOST" save -o "$out" "${refs[@]}"
	# They live on in the node's containerd; Docker need not keep them.
	"$docker" -H "$DOCKER_HOST" rmi "${refs[@]}" >/dev/null
	printf '%s\n' "${refs[@]}" >"$out.refs"
	rm -rf "$ctx"
}

build() {
	[ -f "$archive" ] && { echo "$node_ref"; return; }
	local t0 kbin kindmod
	t0=$(date +%s)
	prereqs
	# debootstrap waits on the network and dpkg, the Go builds on the CPU: side by side.
	local rpid
	rootfs &
	rpid=$!
	kbin=$("$root/hack/controlplane.sh" node)
	binaries
	kindmod=$(GOFLAGS= go env GOMODCACHE)/sigs.k8s.io/kind@$kind_version
	[ -d "$kindmod/images/base/files" ] || GOFLAGS= go mod download "sigs.k8s.io/kind@$kind_version"
	wait "$rpid" || die "rootfs failed"
	log "binaries and rootfs ready in $(($(date +%s) - t0)) s"

	# Stop dockerd at the end only if this build started it.
	local started=1
	if { [ -n "${DOCKER_HOST:-}" ] && docker_answers "$DOCKER_HOST"; } || { [ -z "${DOCKER_HOST:-}" ] && docker_answers ""; } ||
		docker_answers "$dsock"; then
		started=
	fi
	DOCKER_HOST=$(docker_start)
	export DOCKER_HOST
	local cid=regen-kindnode-build-$$
	# shellcheck disable=SC2064
	trap "'$docker' -H '$DOCKER_HOST' rm -f $cid >/dev/null 2>&1 || true; rm -rf '$dir/node.tmp' '$dir/images.tmp'; ${started:+docker_stop}" EXIT

	log "assemble the node filesystem"
	assemble "$kbin" "$kindmod"
	local base="regen.local/kindnode-base:${kube_version}-${rev}"
	tar -C "$dir/node.tmp" -c . | "$docker" -H "$DOCKER_HOST" import - "$base.rootfs" >/dev/null
	rm -rf "$dir/node.tmp"
	# `docker import --change STOPSIGNAL` is refused: one-line build on top instead.
	printf 'FROM %s\nENV container=docker\nSTOPSIGNAL SIGRTMIN+3\nENTRYPOINT ["/usr/local/bin/regen-node-checks", "/usr/local/bin/entrypoint", "/sbin/init"]\n' "$base.rootfs" |
		DOCKER_BUILDKIT=0 "$docker" -H "$DOCKER_HOST" build -q -t "$base" - >/dev/null

	log "component images"
	components "$kbin" "$dir/components.tar"

	# Import them into the node's containerd, as `kind build node-image` does: an
	# unprivileged container of the base, containerd started by hand, import, commit.
	log "import the component images into the node's containerd"
	"$docker" -H "$DOCKER_HOST" run -d --name "$cid" --security-opt seccomp=unconfined --entrypoint=sleep "$base" infinity >/dev/null
	"$docker" -H "$DOCKER_HOST" exec "$cid" bash -c 'nohup containerd >/dev/null 2>&1 &'
	# Debian's ctr (containerd 1.6) has no `info`: wait for the socket, then `ctr version`.
	local i
	for i in $(seq 1 30); do
		"$docker" -H "$DOCKER_HOST" exec "$cid" ctr version >/dev/null 2>&1 && break
		sleep 1
	done
	# Debian's ctr 1.6 has no `import --label` (kind pins the images with it; pinning
	# came with containerd 1.7's CRI, so 1.6 would not honour the label anyway).
	"$docker" -H "$DOCKER_HOST" exec -i "$cid" ctr --namespace=k8s.io images import \
		--all-platforms --no-unpack --digests - <"$dir/components.tar" >/dev/null
	local have ref
	have=$("$docker" -H "$DOCKER_HOST" exec "$cid" ctr --namespace=k8s.io images list -q)
	while read -r ref; do
		grep -qx "$ref" <<<"$have" || die "node containerd lacks $ref after import"
	done <"$dir/components.tar.refs"
	"$docker" -H "$DOCKER_HOST" exec "$cid" pkill containerd || true
	for i in $(seq 1 20); do "$docker" -H "$DOCKER_HOST" exec "$cid" pgrep -x containerd >/dev/null || break; sleep 0.5; done
	"$docker" -H "$DOCKER_HOST" commit \
		--change 'ENTRYPOINT ["/usr/local/bin/regen-node-checks", "/usr/local/bin/entrypoint", "/sbin/init"]' \
		--change 'CMD []' "$cid" "$node_ref" >/dev/null
	"$docker" -H "$DOCKER_HOST" rm -f "$cid" >/dev/null
	local sig
	sig=$("$docker" -H "$DOCKER_HOST" image inspect -f '{{.Config.StopSignal}}' "$node_ref")
	[ "$sig" = "SIGRTMIN+3" ] || die "node image StopSignal is $sig, want SIGRTMIN+3"
	"$docker" -H "$DOCKER_HOST" save -o "$archive.tmp" "$node_ref"
	mv "$archive.tmp" "$archive"
	"$docker" -H "$DOCKER_HOST" rmi "$base" "$base.rootfs" >/dev/null 2>&1 || true
	# Earlier revisions of the recipe: their archives and images go.
	local old
	for old in "$dir"/node-image-*.tar; do [ "$old" = "$archive" ] || rm -f "$old"; done
	for old in $("$docker" -H "$DOCKER_HOST" images --format '{{.Repository}}:{{.Tag}}' "${node_ref%%:*}"); do
		[ "$old" = "$node_ref" ] || "$docker" -H "$DOCKER_HOST" rmi "$old" >/dev/null 2>&1 || true
	done
	rm -f "$dir/components.tar" "$dir/components.tar.refs"
	log "node image $node_ref built in $(($(date +%s) - t0)) s ($(du -m "$archive" | cut -f1) MB: $archive)"
	echo "$node_ref"
}

load() {
	[ -f "$archive" ] || die "no node image: run hack/kindnode.sh build (make kind-node-image)"
	local h=${DOCKER_HOST:-}
	if ! "$docker" ${h:+-H "$h"} image inspect "$node_ref" >/dev/null 2>&1; then
		log "docker load $archive"
		"$docker" ${h:+-H "$h"} load -i "$archive" >/dev/null
	fi
	echo "$node_ref"
}

case ${1:-} in
build) build ;;
check) [ -f "$archive" ] || die "no node image at $archive (hack/kindnode.sh build)" ;;
image) echo "$node_ref" ;;
archive) [ -f "$archive" ] || die "no node image: run hack/kindnode.sh build"; echo "$archive" ;;
kind) [ -x "$bin/kind" ] || die "kind not built: run hack/kindnode.sh build"; echo "$bin/kind" ;;
docker-start) docker_start ;;
docker-stop) docker_stop ;;
load) load ;;
*) echo "usage: $0 build|check|image|archive|kind|docker-start|docker-stop|load" >&2; exit 2 ;;
esac
