#!/usr/bin/env bash
# Configures and builds the project (Release by default) into ./build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${WB_BUILD_DIR:-$root/build}
jobs=${WB_JOBS:-$(nproc)}
gen=()
command -v ninja >/dev/null && [ ! -f "$build_dir/CMakeCache.txt" ] && gen=(-G Ninja)
cmake -S "$root" -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE="${WB_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
