#!/usr/bin/env bash
# check-install.sh BUILD_DIR LIBDIR SANITIZE CC GENERATOR
# Installs the built library into a temporary prefix (cmake --install
# --prefix), then builds tests/consumer/example.c against it twice, as a
# client would: with CMake's find_package(convkit CONFIG) and with
# `cc $(pkg-config --cflags --libs convkit)`.  Both programs must print the
# expected result.  Also checks that README.md shows example.c verbatim.
# SANITIZE=ON builds the consumers with -fsanitize=address,undefined, since
# a sanitized libconvkit.so needs the sanitizer runtime loaded first.
set -euo pipefail
build=$1 libdir=$2 sanitize=$3 cc=$4 generator=$5
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
expected="45@5 54@6 81@9 90@10"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
case "$sanitize" in
  ON | on | 1 | TRUE | true) flags+=(-fsanitize=address,undefined -fno-sanitize-recover=all) ;;
esac

check_output() { # NAME PROGRAM
  local out
  out=$("$2")
  if [ "$out" != "$expected" ]; then
    echo "FAIL: $1 printed '$out', expected '$expected'"
    exit 1
  fi
  echo "ok: $1 printed '$out'"
}

echo "== README.md shows tests/consumer/example.c"
readme_code=$(awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' "$root/README.md")
if [ "$readme_code" != "$(cat "$here/example.c")" ]; then
  echo "FAIL: the first C block of README.md differs from tests/consumer/example.c:"
  diff <(printf '%s\n' "$readme_code") "$here/example.c" || true
  exit 1
fi

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix"

echo "== find_package(convkit CONFIG)"
cmake -S "$here" -B "$tmp/cmake-build" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="${flags[*]}" -DCMAKE_BUILD_TYPE=Release
grep -qx "convkit_DIR:PATH=$prefix/.*" "$tmp/cmake-build/CMakeCache.txt" || {
  echo "FAIL: find_package found a convkit outside $prefix:"
  grep '^convkit_DIR' "$tmp/cmake-build/CMakeCache.txt"
  exit 1
}
cmake --build "$tmp/cmake-build"
check_output "find_package consumer" "$tmp/cmake-build/example"

echo "== pkg-config --cflags --libs convkit"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
pc_flags=$(pkg-config --cflags --libs convkit)
echo "pkg-config: $pc_flags"
# shellcheck disable=SC2086 # the flags are meant to split
"$cc" "${flags[@]}" "$here/example.c" -o "$tmp/example-pc" $pc_flags
LD_LIBRARY_PATH="$prefix/$libdir" check_output "pkg-config consumer" "$tmp/example-pc"
