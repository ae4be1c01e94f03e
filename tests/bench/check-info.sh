#!/usr/bin/env bash
# check-info.sh CONVKIT_INFO [BUILD_DIR]
# Runs convkit-info and checks what it prints:
#   - the detected ISA is the one /proc/cpuinfo implies (x86-64: avx512 with
#     avx512f+bw+vl+dq, avx2 with avx2+fma, else scalar; aarch64: neon), a
#     detection independent of convkit's cpuid/XCR0 code;
#   - the cap line names it (no CONVKIT_MAX_ISA), and every sample problem
#     has an implementation name "op:kernel:isa" per column;
#   - with CONVKIT_MAX_ISA=scalar the cap is scalar, the variable is
#     mentioned, and only the scalar column is printed.
# With BUILD_DIR, also installs the build into a temporary prefix and runs
# the installed bin/convkit-info (it must find its library by itself).
set -euo pipefail
info=$1 build=${2:-}
fail() { echo "FAIL: $*"; exit 1; }

flags=$(grep -m1 -E '^(flags|Features)[[:space:]]*:' /proc/cpuinfo | cut -d: -f2- || true)
has() { [[ " $flags " == *" $1 "* ]]; }
case "$(uname -m)" in
  x86_64 | amd64)
    if has avx512f && has avx512bw && has avx512vl && has avx512dq; then expected=avx512
    elif has avx2 && has fma; then expected=avx2
    else expected=scalar; fi ;;
  aarch64 | arm64) expected=neon ;;
  *) expected=scalar ;;
esac
echo "== /proc/cpuinfo implies ISA: $expected"

check_run() { # LABEL CAP NCOLS [ENV...]
  local label=$1 cap=$2 ncols=$3 out
  shift 3
  echo "== $label"
  out=$(env -u CONVKIT_MAX_ISA "$@" "$info") || fail "$label: convkit-info exited $?"
  printf '%s\n' "$out"
  grep -Eq '^convkit [0-9]+\.[0-9]+\.[0-9]+' <<<"$out" || fail "$label: no version line"
  grep -Eq "^detected ISA: +$expected\$" <<<"$out" || fail "$label: detected ISA is not $expected"
  grep -Eq "^ISA cap: +$cap " <<<"$out" || fail "$label: the cap is not $cap"
  grep -Eq '^threads: +[1-9][0-9]*' <<<"$out" || fail "$label: no thread count"
  local rows
  rows=$(sed -n '/^  problem/,$p' <<<"$out" | tail -n +2)
  [ "$(wc -l <<<"$rows")" -eq 8 ] || fail "$label: expected 8 sample problems"
  for op in conv2d conv1d max_pool2d unfold fold pad; do
    grep -q "$op:" <<<"$rows" || fail "$label: no $op plan"
  done
  while IFS= read -r row; do
    local n
    n=$(grep -oE '[a-z_0-9]+:[a-z_0-9-]+:[a-z0-9]+' <<<"$row" | wc -l)
    [ "$n" -eq "$ncols" ] || fail "$label: '$row' has $n implementation names, expected $ncols"
  done <<<"$rows"
  LAST_OUT=$out
}

# At the detected ISA: one column per supported ISA up to it.
case "$expected" in
  avx512) ncols=3 ;;
  avx2 | neon) ncols=2 ;;
  *) ncols=1 ;;
esac
check_run "convkit-info" "$expected" "$ncols"
check_run "CONVKIT_MAX_ISA=scalar convkit-info" scalar 1 CONVKIT_MAX_ISA=scalar
grep -q 'CONVKIT_MAX_ISA=scalar' <<<"$LAST_OUT" || fail "the cap line does not mention CONVKIT_MAX_ISA"

if [ -n "$build" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "== cmake --install $build --prefix $tmp/prefix"
  cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
  [ -x "$tmp/prefix/bin/convkit-info" ] || fail "bin/convkit-info is not installed"
  info=$tmp/prefix/bin/convkit-info
  check_run "installed bin/convkit-info" "$expected" "$ncols"
fi
echo "ok: convkit-info"
