#!/usr/bin/env bash
# run-tests.sh - the whole test suite, from a fresh Debian 12 machine:
# installs the Debian packages it needs (a no-op when present), then runs
# two CMake workflows (configure, build, test), each failing on any warning:
#   release  Release build: Criterion suites once per ISA cap, PyTorch
#            parity, install + consumer build, exported-symbol check
#   asan     Debug build with AddressSanitizer + UndefinedBehaviorSanitizer:
#            the same suite again (see CMakePresets.json for what it skips)
# Exits non-zero on the first failure.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-packages.sh \
  build-essential cmake ninja-build pkg-config \
  libcriterion-dev libsleef-dev python3-torch python3-numpy qemu-user

mkdir -p build
summary=()
for preset in release asan; do
  echo "== cmake --workflow --preset $preset"
  log="build/workflow-$preset.log"
  cmake --workflow --preset "$preset" 2>&1 | tee "$log"
  summary+=("$preset: $(grep -E 'tests passed, [0-9]+ tests failed out of' "$log" | tail -n 1)")
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "All test workflows passed."
