#!/usr/bin/env bash
# run-main.sh - convkit's main job, from a fresh Debian 12 machine: installs
# the Debian packages it needs (a no-op when present), builds the library
# and convkit-bench in Release (CMake workflow preset "main", build/main),
# and runs convkit-bench's default suites (ResNet-50 conv2d forward at
# minibatch 1 and 8, max_pool2d forward and backward, unfold, fold, pad)
# against oneDNN, PyTorch (libtorch's ATen) and convkit's scalar reference
# in the same process.  It
# prints one table per suite and writes the JSON summary to
# build/main/convkit-bench.json.
#
# Extra arguments go to convkit-bench (see build/main/bench/convkit-bench
# --help), e.g. --suite all, --mb 1, --benchmark_repetitions=5.
# CONVKIT_MAX_ISA=scalar|avx2|avx512 caps the ISA.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-packages.sh build-essential cmake ninja-build pkg-config libsleef-dev \
  libbenchmark-dev libdnnl-dev libtorch-dev

cmake --workflow --preset main
echo
exec build/main/bench/convkit-bench --json build/main/convkit-bench.json "$@"
