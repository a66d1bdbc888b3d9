#!/usr/bin/env bash
# Guard: the CPU numeric paths must compute the same bits on every machine.
#
# The Go compiler fuses x*y + z into one fused multiply-add (one rounding
# instead of two) on arm64 always and on amd64 from GOAMD64=v3. That changes
# the last bit of a float64 result; rounded to float32 the difference usually
# vanishes, but not always, and a flipped bit feeds through every later
# sampler step, so CPU goldens made on amd64 could fail to reproduce on an
# arm64 laptop. An explicit conversion, float64(x*y) + z, forces the product's
# rounding and stops the fusion (Go spec, "Floating-point operators"); a
# helper function does not (it is inlined and then fused).
#
# This script compiles the numeric packages for arm64 and for amd64 v3 with
# -gcflags=-S and fails, listing file:line, on any fused instruction outside
# the allow-list below. Positions are those of the innermost inlined source
# line, so a fusion inside an inlined helper is reported at the helper.
#
# Limits: it checks only the named packages, not the standard library. The
# math package's polynomials (Sin, Cos, Sincos, Tan, Atan, Log, Log1p, Expm1,
# Pow, Cbrt, Lgamma, ...) are compiled with fusion on arm64 and amd64 v3, and
# math.Exp is assembly that picks an FMA path at run time on amd64 CPUs with
# FMA and always uses FMADD on arm64; their last bits can differ between
# machines whatever the listing says. The numeric paths therefore take them
# from internal/pmath (checked here like the others), and a second, textual
# guard fails on any call of such a math function in the non-test Go files of
# the guarded directories below. It is a grep: it does not see math imported
# under another name, a function value (f := math.Exp) passed around, or a
# call made for them by another package (a helper outside these
# directories); math.Sqrt, Abs, Floor, FMA, Frexp, Ldexp, Modf, Max, Min,
# ... are exact IEEE operations and allowed. harness/compare (the
# comparator's OKLab cube roots and gamma, whose scores are judged against
# thresholds, not bits) is not guarded. A line that calls math.FMA on an
# allow-listed file is trusted as a whole.
#
# Usage: hack/fma-check.sh [package ...]   (default: the packages below)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
  pkgs=(
    ./executor/model
    ./executor/backend/cpu
    ./executor/sampling
    ./executor/nodes/...
    ./harness/compare
    ./fixtures/gen
    ./internal/pmath
  )
fi

# The textual guard: directories whose non-test Go files may not call the
# math package's non-portable functions (use internal/pmath).
guarded=(executor/model executor/backend/cpu executor/sampling executor/nodes fixtures/gen)
nonportable='(^|[^[:alnum:]_.])math\.(Exp|Exp2|Expm1|Log|Log2|Log10|Log1p|Pow|Pow10|Cbrt|Sin|Cos|Sincos|Tan|Asin|Acos|Atan|Atan2|Sinh|Cosh|Tanh|Asinh|Acosh|Atanh|Erf|Erfc|Erfinv|Erfcinv|Gamma|Lgamma|Hypot|J0|J1|Jn|Y0|Y1|Yn)\('
if [ $# -eq 0 ]; then
  calls=$(grep -rnE --include='*.go' --exclude='*_test.go' "$nonportable" "${guarded[@]}" || true)
  if [ -n "$calls" ]; then
    echo "fma-check: non-portable math function(s) in a numeric path (bits differ between machines):"
    printf '%s\n' "$calls" | sed 's/^/  /'
    echo "fix: use internal/pmath (add the function there if it is missing)."
    exit 1
  fi
fi

# Files (relative to the repository root) that fuse on purpose, through
# math.FMA, where it is exact or is the reference behaviour. Only their lines
# that call math.FMA are allowed: an accidental fusion elsewhere in the same
# file still fails.
allow=(
  executor/backend/cpu/madd_fma.go # products of float32 values: exact in float64
  executor/sampling/cephes.go      # fma32: PyTorch's AVX2 randn kernel fuses; math.FMA is the same everywhere
)

root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# scan NAME ENV... : build with -S under the given environment and append
# "NAME file:line OPCODE" for every fused instruction to $tmp/found.
scan() {
  local name=$1; shift
  # -S writes the listing to stderr; the build still exits 0.
  if ! env "$@" go build -gcflags=-S "${pkgs[@]}" >"$tmp/$name.s" 2>&1; then
    grep -v '^[[:space:]]' "$tmp/$name.s" | grep -v 'STEXT\|SRODATA\|SNOPTRDATA\|SBSS\|SDATA\|SNOPTRBSS' >&2 || true
    echo "fma-check: build failed for $name" >&2
    exit 2
  fi
  if ! grep -q 'STEXT' "$tmp/$name.s"; then
    echo "fma-check: no assembly listing for $name (nothing compiled?)" >&2
    exit 2
  fi
  # Listing lines: "\t0x0044 00068 (/path/file.go:75)\tFMSUBD\tF1, F0, F0, F0".
  # arm64: FMADD{S,D} FMSUB{S,D} FNMADD{S,D} FNMSUB{S,D};
  # amd64: VFMADD231SD, VFNMSUB132SS, ... (scalar and packed).
  awk -v name="$name" -v root="$root/" '
    match($0, /\([^()]*\.go:[0-9]+\)/) {
      pos = substr($0, RSTART + 1, RLENGTH - 2)
      rest = substr($0, RSTART + RLENGTH)
      split(rest, f, /[ \t]+/)
      op = f[2]
      if (op ~ /^F(N)?M(ADD|SUB)[SD]$/ || op ~ /^VF(N)?M(ADD|SUB)(SUB|ADD)?[0-9]+[SP][SD]$/) {
        if (index(pos, root) == 1) pos = substr(pos, length(root) + 1)
        print name, pos, op
      }
    }' "$tmp/$name.s" >>"$tmp/found"
}

: >"$tmp/found"
scan arm64 GOOS=linux GOARCH=arm64
scan amd64.v3 GOOS=linux GOARCH=amd64 GOAMD64=v3

total=$(wc -l <"$tmp/found")
bad=0
allowed=0
: >"$tmp/bad"
while read -r name pos op; do
  file=${pos%:*}
  line=${pos##*:}
  ok=0
  for a in "${allow[@]}"; do
    if [ "$file" = "$a" ] && sed -n "${line}p" "$file" | grep -q 'math\.FMA('; then
      ok=1
      break
    fi
  done
  if [ $ok -eq 1 ]; then
    allowed=$((allowed + 1))
  else
    echo "$pos $name $op" >>"$tmp/bad"
    bad=$((bad + 1))
  fi
done <"$tmp/found"

if [ $bad -ne 0 ]; then
  echo "fma-check: $bad fused multiply-add instruction(s) outside the allow-list:"
  # One line per source position: file:line, then build:opcode×count.
  sort -V "$tmp/bad" | uniq -c | awk '
    { pos = $2; item = $3 ":" $4 "x" $1
      if (pos in line) line[pos] = line[pos] " " item
      else { line[pos] = item; order[++k] = pos } }
    END { for (i = 1; i <= k; i++) printf "  %s\t%s\n", order[i], line[order[i]] }'
  echo "fix: round the product explicitly, e.g. z + float64(x*y) (see executor/model, executor/backend/cpu/madd_plain.go)."
  exit 1
fi
echo "fma-check: ok (${#pkgs[@]} packages, no math.Exp/Log/Pow/... call in ${guarded[*]}, arm64 and amd64.v3; $allowed deliberate math.FMA instruction(s) in ${allow[*]})"
