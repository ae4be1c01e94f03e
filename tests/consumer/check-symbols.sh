#!/usr/bin/env bash
# check-symbols.sh LIBRARY - the shared library exports only convkit_*
# functions (plus the version script's node name CONVKIT_0) and carries the
# SONAME libconvkit.so.0.  nm prints versioned names as name@@CONVKIT_0.
set -euo pipefail
lib=$1

symbols=$(nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $NF); print $NF }')
stray=$(printf '%s\n' "$symbols" | grep -v -e '^convkit_' -e '^CONVKIT_0$' || true)
if [ -n "$stray" ]; then
  echo "FAIL: $lib exports symbols outside convkit_*:"
  printf '%s\n' "$stray"
  exit 1
fi
count=$(printf '%s\n' "$symbols" | grep -c '^convkit_')
for needed in convkit_version convkit_conv2d_create convkit_max_pool_forward convkit_pad_execute; do
  printf '%s\n' "$symbols" | grep -qx "$needed" || { echo "FAIL: $needed is not exported"; exit 1; }
done
echo "ok: $count symbols, all convkit_*"

soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" != "libconvkit.so.0" ]; then
  echo "FAIL: SONAME is '$soname', expected libconvkit.so.0"
  exit 1
fi
echo "ok: SONAME $soname"
