#!/usr/bin/env bash
# run-tests.sh - the whole test suite, from a fresh Debian 12 machine:
# installs the Debian packages it needs (a no-op when present), then runs
# two CMake workflows (configure, build, test), each failing on any warning:
#   release  Release build: Criterion suites once per ISA cap, PyTorch
#            parity, install + consumer build, exported-symbol check, the
#            regression checker's tests, a smoke run of every benchmark
#            suite (convkit-bench --smoke) and convkit-info
#   asan     Debug build with AddressSanitizer + UndefinedBehaviorSanitizer:
#            the same suite again (see CMakePresets.json for what it skips)
# Exits non-zero on the first failure.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-packages.sh \
  build-essential cmake ninja-build pkg-config \
  libcriterion-dev libsleef-dev python3-torch python3-numpy qemu-user \
  libbenchmark-dev libdnnl-dev libtorch-dev

mkdir -p build
summary=()
total_passed=0
total_failed=0
for preset in release asan; do
  echo "== cmake --workflow --preset $preset"
  log="build/workflow-$preset.log"
  cmake --workflow --preset "$preset" 2>&1 | tee "$log"
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  total_passed=$((total_passed + total - failed))
  total_failed=$((total_failed + failed))
  summary+=("$preset: $line")
done

echo
echo "== summary (CTest entries of both workflows)"
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
