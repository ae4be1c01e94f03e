#!/usr/bin/env bash
# check-link.sh NM CONVKIT_BENCH LIBCONVKIT_SO
# convkit-bench links libconvkit.so and, after it, the static convkit_static
# for the GEMM internals that bench/suite-gemm.c times (hidden in the shared
# library).  The linker must take only leaf objects from the archive (the
# GEMM kernels, packer and driver): had it taken one that defines public
# functions too (isa.c, for instance), convkit-bench would carry a second
# copy of them and of their state - the ISA cap, the thread count - that
# overrides libconvkit.so's for the executable's own calls.  Fails when the
# executable defines any symbol libconvkit.so exports.
set -euo pipefail
nm=$1 bench=$2 lib=$3
fail() { echo "FAIL: $*"; exit 1; }

exported=$("$nm" -D --defined-only "$lib" | awk 'NF == 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ -n "$exported" ] || fail "$lib exports no symbol (nm failed?)"
defined=$("$nm" --defined-only "$bench" | awk 'NF == 3 { print $3 }' | sort -u)
both=$(comm -12 <(printf '%s\n' "$exported") <(printf '%s\n' "$defined"))
if [ -n "$both" ]; then
  printf '%s\n' "$both"
  fail "convkit-bench defines $(wc -l <<<"$both") of the symbols libconvkit.so exports (above)"
fi
echo "ok: convkit-bench defines none of the $(wc -l <<<"$exported") symbols libconvkit.so exports"
