#!/usr/bin/env bash
# Does `regen workflow validate --url` reject every prompt the server itself rejects?
#
# Usage: hack/validate-vs-server.sh URL [SUITE]
#
# For every workflow of SUITE (default fixtures/suite.yaml) and for a set of broken
# variants of fixtures/workflows/image-ops.json (made here with jq: out-of-range and
# wrongly typed values, unknown nodes and options, dangling links, a cycle, a missing
# input file), it posts the API prompt to URL's /prompt and runs
# `bin/regen workflow validate --url URL` on the same prompt, and prints one table row:
#
#   prompt  server (HTTP status, 200p: queued in part; error types)  validate (ok | rejected)  verdict
#
# verdict: agree, or MISSED (the server rejected it, validate passed: the bug this
# script exists to catch), or STRICTER (validate rejected what the server queued).
# Exit 1 when any row is MISSED. Prompts the server accepts are queued and run there:
# point it at a scratch server (a real ComfyUI, or `bin/regen-executor`).
# Needs bin/regen (make build), curl and jq. Model names are sent as the workflows
# say (no aliases): against a server without those files they must be rejected.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: hack/validate-vs-server.sh URL [SUITE]}
suite=${2:-fixtures/suite.yaml}
url=${url%/}
regen=bin/regen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The variants: name, then a jq filter over image-ops.json (API format).
variants=(
	'width-too-large' '."2".inputs.width = 99999'
	'width-negative' '."2".inputs.width = -1'
	'width-not-a-number' '."2".inputs.width = "wide"'
	'width-float' '."2".inputs.width = 96.7'
	'method-not-in-list' '."2".inputs.upscale_method = "sinc"'
	'unknown-node-type' '."3".class_type = "ImageInvertX"'
	'missing-required-input' 'del(."2".inputs.crop)'
	'link-to-missing-node' '."3".inputs.image = ["99", 0]'
	'link-to-missing-output' '."3".inputs.image = ["2", 5]'
	'link-type-mismatch' '."4".inputs.image1 = ["1", 1]'
	'cycle' '."2".inputs.image = ["3", 0]'
	'missing-input-file' '."1".inputs.image = "no-such-file.png"'
	'no-output-node' 'del(."5") | del(."6")'
)

rows=()
missed=0

# check NAME API_JSON_FILE
check() {
	local name=$1 file=$2 code types vout vres verdict
	jq '{prompt: ., client_id: "validate-vs-server"}' "$file" >"$tmp/body.json"
	code=$(curl -sS -o "$tmp/resp.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$tmp/body.json" "$url/prompt")
	types=$(jq -r '[.error.type // empty] + [(.node_errors // {}) | to_entries[] | .value.errors[]?.type] | unique | join(",")' \
		"$tmp/resp.json" 2>/dev/null || echo '?')
	if vout=$("$regen" workflow validate --url "$url" "$file" 2>&1); then
		vres=ok
	else
		vres=rejected
	fi
	# A 200 with node_errors: the server queued only the outputs that validated
	# and rejected the rest; validate (all or nothing) must reject it too.
	if [ "$code" = 200 ] && [ -n "$types" ]; then
		code=200p
	fi
	if [ "$code" != 200 ] && [ "$vres" = ok ]; then
		verdict=MISSED
		missed=$((missed + 1))
	elif [ "$code" = 200 ] && [ "$vres" != ok ]; then
		verdict=STRICTER
	else
		verdict=agree
	fi
	rows+=("$(printf '%-34s %-4s %-52s %-8s %s' "$name" "$code" "${types:--}" "$vres" "$verdict")")
	if [ "$verdict" != agree ]; then
		printf '%s\n' "$vout" | sed 's/^/    validate: /' >"$tmp/why.$name"
	fi
}

# The suite's workflows, converted to API format with the server's schemas.
while IFS= read -r wf; do
	path="$(dirname "$suite")/$wf"
	name=$(basename "$wf" .json)
	if ! "$regen" workflow convert --url "$url" "$path" >"$tmp/$name.json" 2>"$tmp/$name.err"; then
		rows+=("$(printf '%-34s %-4s %-52s %-8s %s' "$name" '-' 'convert failed' '-' "$(head -c 80 "$tmp/$name.err")")")
		continue
	fi
	check "$name" "$tmp/$name.json"
done < <(sed -n 's/^  - path: *\(.*\.json\) *$/\1/p' "$suite" | sort -u)

base=fixtures/workflows/image-ops.json
for ((i = 0; i < ${#variants[@]}; i += 2)); do
	name=${variants[i]}
	jq "${variants[i + 1]}" "$base" >"$tmp/v-$name.json"
	check "image-ops~$name" "$tmp/v-$name.json"
done

printf '%-34s %-4s %-52s %-8s %s\n' prompt srv 'server error types' validate verdict
printf '%s\n' "${rows[@]}"
for f in "$tmp"/why.*; do
	[ -e "$f" ] || continue
	printf '%s:\n' "${f##*/why.}"
	cat "$f"
done
echo "server: $(curl -sS "$url/system_stats" | jq -r '.system.comfyui_version')  missed: $missed"
[ "$missed" = 0 ]
