#!/bin/sh
# Preload the executor's models into $MODELS (the models PVC) from $MANIFEST.
# Each manifest line: <sha256> <path under $MODELS> <url>; '#' starts a comment.
# A file already present with the right checksum is kept; a missing or corrupt one is
# fetched to <path>.part, verified, then renamed, so the executor never sees half a file.
set -eu
: "${MANIFEST:=/etc/regen/models.txt}"
: "${MODELS:=/models}"
cd "$MODELS"
fail=0
while read -r sum path url rest; do
	case "$sum" in '' | '#'*) continue ;; esac
	if [ -f "$path" ] && echo "$sum  $path" | sha256sum -c >/dev/null 2>&1; then
		echo "preload: ok $path"
		continue
	fi
	mkdir -p "$(dirname "$path")"
	echo "preload: fetching $path from $url"
	if ! curl -fsSL --retry 5 --retry-delay 2 -o "$path.part" "$url"; then
		echo "preload: cannot fetch $path from $url; set its URL in kustomize/components/models/models.txt or pre-populate the regen-models PVC" >&2
		fail=1
		continue
	fi
	if ! echo "$sum  $path.part" | sha256sum -c >/dev/null 2>&1; then
		echo "preload: checksum mismatch for $path (want $sum): refusing it" >&2
		rm -f "$path.part"
		fail=1
		continue
	fi
	mv "$path.part" "$path"
	echo "preload: stored $path"
done <"$MANIFEST"
exit "$fail"
