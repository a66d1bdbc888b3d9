#!/usr/bin/env bash
# A container image of a real ComfyUI, built offline (issue 17): what components/comfyui
# runs in place of regen-executor, so the same overlays can be rolled out on this machine's
# host node (overlays/comfyui-cpu) and the committed suite replayed through it. A team
# deploys its own image instead (see kustomize/components/comfyui).
#
# The image, one layer, as an OCI image-layout archive (ctr images import, kind load
# image-archive, regen run --image-archive):
#   - a Debian bookworm rootfs (debootstrap --variant=minbase, cached) with python3 and
#     Debian's python3-torch 1.13 and the Python packages ComfyUI's image-only nodes import;
#     no -dev packages, no docs, no apt lists or .debs;
#   - ComfyUI's source from COMFYUI_SRC (default /tmp/comfyui; never committed: fetch
#     github:yzkee/ComfyUI, whose master is 0.33.0) at /opt/ComfyUI, without its tests and
#     without anything in input/, output/, temp/ or user/, byte-compiled;
#   - hack/comfyui's shims: stub modules and torch back-ports (regen_comfyshims, on when
#     REGEN_COMFYUI_STUBS is set, as the image does) and a stand-in for the frontend wheel;
#   - user 65532 (the base's runAsUser), entrypoint `python3 main.py --listen 0.0.0.0
#     --port 8188 --cpu` in /opt/ComfyUI (the component replaces the command and args).
# Only image-only workflows can run in it (the stubs cannot load a model); every model
# workflow is answered value_not_in_list (no checkpoint on that server).
#
# Usage:
#   hack/comfyui-image.sh build     build what is missing (as root: debootstrap, chroot);
#                                   prints the archive last
#   hack/comfyui-image.sh check     exit 0 when the archive for COMFYUI_SRC's version (or
#                                   COMFYUI_VERSION, then no source is needed) is cached
#   hack/comfyui-image.sh archive   print the cached archive
#   hack/comfyui-image.sh ref       print the image reference (overlays/comfyui-cpu names it)
#   hack/comfyui-image.sh import    build if needed, then ctr images import into the containerd
#                                   at CONTAINERD_ADDRESS (namespace k8s.io)
#
# The cache (REGEN_CACHE, default ~/.cache/regen): comfyui-rootfs-bookworm-<rev>/rootfs (the
# Debian part, shared by every ComfyUI version) and comfyui-<version>-<rev>.oci.tar.
set -o errexit -o nounset -o pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

suite=bookworm
# Bump rev when the recipe (packages, shims, layout) changes: it is part of the cache keys
# and of the image tag.
rev=r1
cache=${REGEN_CACHE:-$HOME/.cache/regen}
mirror=${REGEN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
src=${COMFYUI_SRC:-/tmp/comfyui}
base="$cache/comfyui-rootfs-$suite-$rev"
uid=65532
# The stubbed modules (hack/comfyui/regen_comfyshims): packages image-only nodes never use.
stubs=sqlalchemy,alembic,comfy_aimdo,comfy_kitchen,safetensors,einops,numpy.dtypes,transformers,torchaudio,tokenizers,torchsde,av,pydantic,kornia,spandrel,simpleeval
# python3-torch 1.13 and what ComfyUI 0.33.0's image-only nodes import (Depends only, as
# debootstrap resolves them); OpenBLAS as on a Debian host with python3-torch.
packages=python3,python3-torch,python3-numpy,python3-pil,python3-aiohttp,python3-yaml,python3-scipy,python3-psutil,python3-tqdm,python3-requests,python3-sentencepiece,python3-torchvision,python3-filelock,python3-yarl,python3-packaging,libopenblas0-pthread

log() { echo "== $*" >&2; }
die() {
	echo "comfyui-image: $*" >&2
	exit 1
}

# The ComfyUI version: COMFYUI_VERSION, else the source's comfyui_version.py (check, archive
# and ref need no source when COMFYUI_VERSION is set).
version() {
	local v=${COMFYUI_VERSION:-}
	if [ -z "$v" ]; then
		[ -f "$src/comfyui_version.py" ] || die "no ComfyUI source at $src (set COMFYUI_SRC, or COMFYUI_VERSION for a cached image; fetch github:yzkee/ComfyUI for 0.33.0)"
		v=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$src/comfyui_version.py")
	fi
	[ -n "$v" ] || die "no __version__ in $src/comfyui_version.py"
	echo "$v"
}

ref() {
	local v
	v=$(version) || exit 1
	echo "regen.local/comfyui:$v-$rev"
}
archive() {
	local v
	v=$(version) || exit 1
	echo "$cache/comfyui-$v-$rev.oci.tar"
}

# The Debian rootfs, once per rev.
rootfs() {
	[ -f "$base/rootfs/.complete" ] && return 0
	[ "$(id -u)" = 0 ] || die "debootstrap needs root"
	command -v debootstrap >/dev/null || die "missing debootstrap (apt-get install -y debootstrap)"
	local t0
	t0=$(date +%s)
	mkdir -p "$base"
	log "debootstrap $suite with python3-torch ($mirror)"
	rm -rf "$base/rootfs.tmp"
	debootstrap --variant=minbase --include="$packages" "$suite" "$base/rootfs.tmp" "$mirror" >"$base/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$base/debootstrap.log" >&2; die "debootstrap failed (log: $base/debootstrap.log)"; }
	local r="$base/rootfs.tmp"
	# Lean: no package caches, lists, docs, man pages, locales but C, headers or static libs.
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/* \
		"$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
		"$r"/usr/include/* "$r"/var/log/*.log "$r"/var/log/apt/*
	find "$r/usr/lib" -name '*.a' -delete
	touch "$r/.complete"
	rm -rf "$base/rootfs" && mv "$r" "$base/rootfs"
	log "rootfs in $(($(date +%s) - t0)) s ($(du -sh "$base/rootfs" | cut -f1))"
}

# The image's filesystem: the rootfs, ComfyUI, the shims, the user; byte-compiled.
assemble() {
	local n=$1 py
	rm -rf "$n" && cp -a "$base/rootfs" "$n" && rm -f "$n/.complete"
	mkdir -p "$n/opt/ComfyUI"
	tar -C "$src" --exclude=./.git --exclude=./tests --exclude=./tests-unit \
		--exclude='./input/*' --exclude='./output/*' --exclude='./temp/*' --exclude='./user' \
		--exclude='__pycache__' -cf - . | tar -C "$n/opt/ComfyUI" --no-same-owner -xf -
	mkdir -p "$n/opt/ComfyUI/input" "$n/opt/ComfyUI/output" "$n/opt/ComfyUI/temp" \
		"$n/input" "$n/output" "$n/temp" "$n/models"
	py=$(cd "$n/usr/lib" && ls -d python3.* | head -n 1)
	local site="$n/usr/local/lib/$py/dist-packages"
	mkdir -p "$site"
	cp -r "$root/hack/comfyui/regen_comfyshims" "$root/hack/comfyui/comfyui_frontend_package" "$site/"
	cp "$root/hack/comfyui/regen-comfyshims.pth" "$site/"
	# The non-root user the base's securityContext runs as (65532, as distroless's nonroot).
	echo "comfyui:x:$uid:$uid:ComfyUI:/tmp:/usr/sbin/nologin" >>"$n/etc/passwd"
	echo "comfyui:x:$uid:" >>"$n/etc/group"
	chmod -R a+rX "$n/opt/ComfyUI" "$site"
	# Byte-compile ComfyUI and the shims: the root filesystem is read-only in the pod, so
	# Python could not cache them, and compiling ~1000 modules at every start is slow.
	chroot "$n" /usr/bin/python3 -m compileall -q /opt/ComfyUI "/usr/local/lib/$py/dist-packages" >/dev/null ||
		log "some files did not byte-compile (Python compiles them at start-up instead)"
	# The runtime provides /dev; debootstrap's device nodes have no place in a layer.
	rm -rf "${n:?}"/dev/*
}

# write_archive DIR OUT REF: DIR as a one-layer OCI image-layout archive.
write_archive() {
	local n=$1 out=$2 name=$3 arch stage layer diff size cfg cfgd msize man mand
	arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
	stage="$out.tmp.d"
	rm -rf "$stage" && mkdir -p "$stage/blobs/sha256"
	layer="$stage/layer.tar"
	tar -C "$n" --numeric-owner --sort=name --mtime=@0 -cf "$layer" .
	diff=$(sha256sum "$layer" | cut -d' ' -f1)
	size=$(stat -c %s "$layer")
	mv "$layer" "$stage/blobs/sha256/$diff"
	cfg=$(printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"User":"%s:%s","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","HOME=/tmp","PYTHONDONTWRITEBYTECODE=1","REGEN_COMFYUI_STUBS=%s"],"Entrypoint":["python3","main.py"],"Cmd":["--listen","0.0.0.0","--port","8188","--cpu"],"WorkingDir":"/opt/ComfyUI","ExposedPorts":{"8188/tcp":{}},"Labels":{"org.opencontainers.image.title":"ComfyUI %s (regen hack/comfyui-image.sh %s)"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"hack/comfyui-image.sh"}]}' \
		"$arch" "$uid" "$uid" "$stubs" "$(version)" "$rev" "$diff")
	cfgd=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	printf '%s' "$cfg" >"$stage/blobs/sha256/$cfgd"
	man=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
		"$cfgd" "${#cfg}" "$diff" "$size")
	mand=$(printf '%s' "$man" | sha256sum | cut -d' ' -f1)
	msize=${#man}
	printf '%s' "$man" >"$stage/blobs/sha256/$mand"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$stage/oci-layout"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
		"$mand" "$msize" "$name" "$name" >"$stage/index.json"
	tar -C "$stage" --numeric-owner --sort=name --mtime=@0 -cf "$out.tmp" oci-layout index.json blobs
	rm -rf "$stage"
	mv "$out.tmp" "$out"
}

build() {
	local t0 out n
	t0=$(date +%s)
	out=$(archive) || exit 1
	if [ -f "$out" ]; then
		log "cached: $out ($(ref))"
		echo "$out"
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "building the image needs root (debootstrap, chroot)"
	rootfs
	n="$cache/comfyui-$(version)-$rev.rootfs"
	log "assemble ComfyUI $(version) from $src"
	assemble "$n"
	log "write $out ($(du -sh "$n" | cut -f1) unpacked)"
	write_archive "$n" "$out" "$(ref)"
	rm -rf "$n"
	log "image $(ref) in $(($(date +%s) - t0)) s: $out ($(du -h "$out" | cut -f1))"
	echo "$out"
}

import() {
	local out
	out=$(build) || exit 1
	[ -n "${CONTAINERD_ADDRESS:-}" ] || die "set CONTAINERD_ADDRESS to the containerd socket to import into"
	ctr --address "$CONTAINERD_ADDRESS" --namespace k8s.io images import "$out" >&2
	echo "$(ref)"
}

case ${1:-} in
build) build ;;
check)
	a=$(archive) || exit 1
	[ -f "$a" ] || die "no image at $a (hack/comfyui-image.sh build)"
	;;
archive)
	a=$(archive) || exit 1
	[ -f "$a" ] || die "no image at $a: run hack/comfyui-image.sh build"
	echo "$a"
	;;
ref) ref ;;
import) import ;;
*)
	echo "usage: $0 build|check|archive|ref|import" >&2
	exit 2
	;;
esac
