#!/usr/bin/env bash
# run-main.sh - convkit's main job, from a fresh Debian 12 machine: installs
# the Debian packages it needs (a no-op when present), builds the library and
# the driver in Release (CMake workflow preset "main", build/main), and runs
# the driver: it prints the detected ISA and times each op once on a
# ResNet-50-sized problem.  CONVKIT_MAX_ISA=scalar|avx2|avx512 caps the ISA.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-packages.sh build-essential cmake ninja-build pkg-config libsleef-dev

cmake --workflow --preset main
echo
exec build/main/bench/convkit-driver
