#!/usr/bin/env bash
# smoke.sh CONVKIT_BENCH PYTHON3 CHECKER [CONVKIT_BENCH_ARGS...]
# CI's smoke run of every benchmark suite, so the benchmark code cannot rot:
#   convkit-bench --smoke (every suite, 2 problems per suite and shape file,
#   minibatch 1, one repetition of >= 0.01 s) --json <tmp>
# must succeed, print a table per suite, and write a JSON summary that the
# regression checker validates (check-regression.py --validate) with a case
# in every suite the run names in its header (--smoke selects all of them)
# and a ratio against the scalar peer and the convkit NHWC pool peer, against
# both oneDNN peers when the binary has oneDNN, and against both PyTorch
# peers (torch, torch_nhwc) when it has libtorch.
# Extra arguments go to convkit-bench (the asan preset passes --shapes with
# the tiny shape files of tests/bench/shapes).
set -euo pipefail
bench=$1 python=$2 checker=$3
shift 3
fail() { echo "FAIL: $*"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== $bench --smoke $* --json $tmp/smoke.json"
"$bench" --smoke "$@" --json "$tmp/smoke.json" | tee "$tmp/out.txt"

suites=$(sed -nE 's/^  suites: +//p' "$tmp/out.txt" | head -n 1 | tr -s ' ' ',')
[ -n "$suites" ] || fail "convkit-bench --smoke names no suite in its header"
# The suites bench/suites.h promises (more may exist: all must have a case).
for s in conv_fwd conv_bwd_data conv_bwd_weights pool_fwd pool_bwd unfold fold pad gemm_ukernel; do
  [[ ",$suites," == *",$s,"* ]] || fail "--smoke does not run suite $s (runs: $suites)"
done

peers=scalar,convkit_nhwc
if grep -Eq '^  oneDNN: +present$' "$tmp/out.txt"; then
  peers=$peers,onednn_any,onednn_nchw
else
  echo "note: convkit-bench reports oneDNN absent; its peers are not expected"
fi
if grep -Eq '^  PyTorch: +present( \(|$)' "$tmp/out.txt"; then
  peers=$peers,torch,torch_nhwc
else
  echo "note: convkit-bench reports PyTorch absent; its peers are not expected"
fi
for s in ${suites//,/ }; do
  grep -Eq "^$s - " "$tmp/out.txt" || fail "no table for suite $s"
done

echo "== check-regression.py --validate (suites: $suites; peers: $peers)"
"$python" "$checker" --validate "$tmp/smoke.json" --expect-suites "$suites" --expect-peers "$peers"
