#!/usr/bin/env bash
# bench-scaling.sh - 2-thread scaling of convkit and its peers.  Runs an
# already built convkit-bench twice on the same cases, with --threads 1 and
# --threads 2 (each with --json), then prints per layer the GFLOP/s (GB/s
# for the memory-bound suites) of convkit on NCHW, convkit on its
# channel-blocked layout (convkit_blocked) and oneDNN on its preferred
# layouts (onednn_any) at 1 and 2 threads and the ratio T2/T1
# (bench/scaling.py), against the target of 1.85x:
#
#   bash scripts/bench-scaling.sh [--bench PATH] [--out DIR] [CONVKIT_BENCH_OPTIONS...]
#   bash scripts/bench-scaling.sh --suite conv_fwd --mb 1 --min-time 0.2 \
#       --benchmark_repetitions=5
#
# --bench    the convkit-bench binary (default: the newer of
#            build/main/bench/convkit-bench and build/release/bench/convkit-bench;
#            build one with `cmake --workflow --preset main`)
# --out      where the runs' JSON summaries and tables go (default: the
#            binary's build folder): scaling-t1.{json,txt}, scaling-t2.{json,txt}
# Other options go to both runs (default --suite conv_fwd); --no-scalar and
# --no-torch are added, as the scalar and PyTorch peers play no part here.
# Needs an otherwise idle machine with at least 2 cores.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bench= out=
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) bench=${2:?--bench needs a path}; shift ;;
    --bench=*) bench=${1#--bench=} ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --out=*) out=${1#--out=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --threads | --threads=* | --json | --json=*)
      echo "bench-scaling.sh: $1 is set by the script" >&2; exit 2 ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ -z "$bench" ]; then # the newer of the two presets' binaries
  for b in build/main/bench/convkit-bench build/release/bench/convkit-bench; do
    if [ -x "$b" ] && { [ -z "$bench" ] || [ "$b" -nt "$bench" ]; }; then bench=$b; fi
  done
fi
if [ -z "$bench" ] || [ ! -x "$bench" ]; then
  echo "bench-scaling.sh: no convkit-bench binary${bench:+ at '$bench'}; build one with" \
       "'cmake --workflow --preset main' or pass --bench PATH" >&2
  exit 2
fi
out=${out:-$(dirname "$(dirname "$bench")")}
mkdir -p "$out"
[[ " ${args[*]-} " == *" --suite"* ]] || args=(--suite conv_fwd "${args[@]}")
if [ "$(nproc)" -lt 2 ]; then
  echo "bench-scaling.sh: warning: $(nproc) core(s): the 2-thread run cannot scale" >&2
fi

for t in 1 2; do
  echo "== $bench ${args[*]} --no-scalar --no-torch --threads $t --json $out/scaling-t$t.json" \
       "(table: $out/scaling-t$t.txt)"
  "$bench" "${args[@]}" --no-scalar --no-torch --threads "$t" --json "$out/scaling-t$t.json" \
    >"$out/scaling-t$t.txt" 2>&1 || {
    tail -n 20 "$out/scaling-t$t.txt" >&2
    echo "bench-scaling.sh: the $t-thread run failed (see $out/scaling-t$t.txt)" >&2
    exit 1
  }
  grep -E '^  warning:' -A1 "$out/scaling-t$t.txt" || true
done
echo
python3 bench/scaling.py "$out/scaling-t1.json" "$out/scaling-t2.json"
if grep -qE '^  warning: +other processes' "$out/scaling-t1.txt" "$out/scaling-t2.txt"; then
  echo
  echo "note: other processes were using the cores (warnings above): the 2-thread figures" \
       "compete with them and understate the scaling; re-run on an idle machine" >&2
fi
